"""The product as deployed: ``manage.py serve`` started the way ``bin/run`` starts it.

Tests here look only from outside: HTTP with a token, ``manage.py`` commands, the console log
and, for outcomes, rows in the database. They never call ``sweep()`` or ``drain()``.
"""

from __future__ import annotations

import pytest

from tests.deployment import Deployment


@pytest.fixture
def deployment(transactional_db, tmp_path):
    """Start the product on the test database; every process is stopped at teardown."""
    from django_q.brokers import get_broker

    # Messages left in a shared Redis by earlier tests would be other tests' work.
    for lane in ("priority", "default"):
        get_broker(lane).purge_queue()
    deployed = Deployment(tmp_path)
    yield deployed
    deployed.stop()
