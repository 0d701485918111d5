"""Utilities: the shared synthesizer contract (estimator_checks)."""
