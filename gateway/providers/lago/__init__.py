"""lago."""
