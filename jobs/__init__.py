"""The job engine: lanes, enqueue, tasks, lifecycle, context, sweeper, runtime.

Layers and import direction: docs/ARCHITECTURE.md ("The job engine"), kept by
jobs/tests/test_architecture.py.
"""
