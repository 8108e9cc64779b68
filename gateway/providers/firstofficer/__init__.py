"""firstofficer."""
