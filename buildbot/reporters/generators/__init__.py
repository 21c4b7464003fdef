"""Report generators: decide which events become reports and build them."""
