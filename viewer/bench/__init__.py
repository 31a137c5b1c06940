"""Benchmark of media loading: N+1, ORM eager loading, the app's batch path and the driver alone."""

from viewer.bench.command import register, run

__all__ = ["register", "run"]
