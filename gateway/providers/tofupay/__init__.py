"""tofupay."""
