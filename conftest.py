"""Shared fixtures: a temporary PHOTOS_ROOT for every test, tenants, users and projects."""

from __future__ import annotations

import pytest

from tests import factories


@pytest.fixture(autouse=True)
def photos_root(tmp_path, settings):
    """Every test gets its own real PHOTOS_ROOT on disk."""
    root = tmp_path / "photos"
    root.mkdir()
    settings.PHOTOS_ROOT = root
    return root


@pytest.fixture
def tenant(db):
    return factories.make_tenant("acme", "Acme Studio")


@pytest.fixture
def other_tenant(db):
    return factories.make_tenant("globex", "Globex Photo")


@pytest.fixture
def user(tenant):
    return factories.make_user(tenant, "alice")


@pytest.fixture
def staff_user(tenant):
    return factories.make_user(tenant, "stella", staff=True)


@pytest.fixture
def other_user(other_tenant):
    return factories.make_user(other_tenant, "bob")


@pytest.fixture
def project(tenant):
    return factories.make_project(tenant, "Iceland July 2025")
