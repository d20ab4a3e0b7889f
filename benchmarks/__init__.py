"""Benchmarks and the synthetic corpus generator (see benchmarks/README.md); not part of the package."""
