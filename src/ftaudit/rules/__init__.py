"""Rule implementations, one module per family; each registers with @rule."""
