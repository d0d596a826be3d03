"""Open-loop load generator: python -m loadgen --help."""
