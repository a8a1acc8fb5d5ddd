"""The measurements behind benchmarks/RESULTS.md: ``python -m benchmarks all`` regenerates every section,
``python -m benchmarks --only NAME`` one (see benchmarks/regenerate.py)."""
