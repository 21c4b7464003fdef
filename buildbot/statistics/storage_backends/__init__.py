"""Where a StatsService sends captured values."""
