"""Cohort storage, real-cohort loaders, the simulator, training and evaluation runs, scoring at scale."""

__all__: list[str] = []
