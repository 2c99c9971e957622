"""HTTP routes: one module per resource; handlers decode, call a service, encode."""
