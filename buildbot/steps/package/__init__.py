"""Steps that build or check distribution packages (rpm, deb)."""
