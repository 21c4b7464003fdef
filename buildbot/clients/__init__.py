"""Clients of a master's PB services (used by hook scripts)."""
