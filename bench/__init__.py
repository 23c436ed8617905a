"""Clarion benchmarks: `make bench` (python -m bench). Results and method: docs/PERFORMANCE.md."""
