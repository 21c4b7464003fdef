"""changes package."""
