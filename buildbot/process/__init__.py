"""The process layer: builders, builds, steps, properties, locks."""
