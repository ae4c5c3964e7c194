from __future__ import annotations

import pytest

from tests.factories import make_photo


@pytest.fixture
def photos(project):
    return [make_photo(project, f"IMG_{n:04d}") for n in range(1, 5)]
