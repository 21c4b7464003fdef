"""Tests of the reporters (status push services)."""
