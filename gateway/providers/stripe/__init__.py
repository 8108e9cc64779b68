"""stripe."""
