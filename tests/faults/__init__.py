"""Helpers for tests/test_faults.py: the processes those tests start, and the databases they use."""
