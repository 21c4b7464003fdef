"""reporters package."""
