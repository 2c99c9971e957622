"""msgspec Structs for everything that crosses the HTTP boundary."""
