"""django-q2 task functions for the raw baseline of bench/pipeline_overhead.py."""

import time


def noop() -> float:
    """Do nothing; return when it started (epoch seconds) so latency can be measured."""
    return time.time()
