"""gcx benchmarks: see README.md."""
