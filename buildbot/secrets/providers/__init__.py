"""Secret providers for c['secretsProviders']."""
