"""Steps for the deb package format."""
