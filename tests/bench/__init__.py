"""Benchmarks (``make bench``): named scenarios against real parts, compared with a baseline run.

Run ``python -m tests.bench --help``; see docs/benchmarks.md.
"""
