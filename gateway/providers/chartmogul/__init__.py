"""chartmogul."""
