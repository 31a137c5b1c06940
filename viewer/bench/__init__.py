"""Benchmark of media loading: N+1, ORM eager loading, the app's batch path and the driver alone.

The `inspection-viewer bench` command that runs it lives in viewer/cli/bench.py.
"""
