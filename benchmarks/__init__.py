"""Benchmark scripts: each prints figures and asserts nothing (docs/benchmarks.md)."""
