"""Benchmark tooling: scale data, time the build, and compare with a hand-written limit and a
pandas peer (``make bench``, docs/BENCHMARKS.md)."""
