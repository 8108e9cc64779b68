"""stripe_like."""
