"""www package."""
