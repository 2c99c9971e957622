"""Schedule interchange: reading and writing the formats other conference tools use."""
