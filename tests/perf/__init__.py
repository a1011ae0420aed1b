"""Benchmarks, run by hand (`python -m tests.perf.bulk`); pytest does not collect them."""
