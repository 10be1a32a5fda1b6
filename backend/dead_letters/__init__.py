"""Reports the case API refused as invalid, kept for staff instead of being thrown away."""
