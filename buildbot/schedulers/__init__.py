"""schedulers package."""
