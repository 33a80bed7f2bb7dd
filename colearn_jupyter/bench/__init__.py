"""Benchmarks that print figures (gas, seconds); they never assert on time."""
