"""Login throttling (SPEC §14, docs/SECURITY.md#login-throttling): django-axes on every password
login, locking one account from one address after LOGIN_FAILURE_LIMIT failures."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse

from tests.factories import make_user
from tests.urls import api_path

PASSWORD = "pw-for-tests-1"
LOGIN = reverse("admin:login")
HOME = reverse("admin:index")


def attempt(client, username: str, password: str, address: str = "127.0.0.1", **headers):  # type: ignore[no-untyped-def]
    return client.post(
        LOGIN,
        {"username": username, "password": password, "next": HOME},
        REMOTE_ADDR=address,
        **headers,
    )


def logged_in(response) -> bool:  # type: ignore[no-untyped-def]
    return response.status_code == 302 and response.url == HOME


@pytest.fixture
def staff_pair(tenant):  # type: ignore[no-untyped-def]
    return (
        make_user(tenant, "stella", staff=True, password=PASSWORD),
        make_user(tenant, "sam", staff=True, password=PASSWORD),
    )


def test_forty_wrong_passwords_then_the_right_one_is_refused(client, staff_pair):
    statuses = [attempt(client, "stella", f"guess-{n}").status_code for n in range(40)]
    # The form answers the first failures; the failure that reaches the limit locks the pair.
    limit = settings.AXES_FAILURE_LIMIT
    assert statuses == [200] * (limit - 1) + [429] * (40 - limit + 1)

    response = attempt(client, "stella", PASSWORD)
    assert response.status_code == 429
    assert b"Sign-in locked" in response.content
    assert b"axes_reset_username" in response.content
    assert "_auth_user_id" not in client.session
    assert client.get(HOME).status_code == 302  # still sent to the login page


def test_lock_is_per_account_and_address(client, staff_pair):
    for n in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, "stella", f"guess-{n}")
    assert attempt(client, "stella", PASSWORD).status_code == 429

    # Another account from the same address signs in.
    assert logged_in(attempt(client, "sam", PASSWORD))
    client.logout()
    # The same account from another address signs in.
    assert logged_in(attempt(client, "stella", PASSWORD, address="198.51.100.7"))


def test_lock_lifts_after_the_cool_off(client, staff_pair):
    for n in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, "stella", f"guess-{n}")
    assert attempt(client, "stella", PASSWORD).status_code == 429

    # Let the cool-off pass: the attempts are dated that much earlier (no sleeping).
    cool_off = settings.AXES_COOLOFF_TIME + timedelta(seconds=1)
    for row in AccessAttempt.objects.all():
        AccessAttempt.objects.filter(pk=row.pk).update(attempt_time=row.attempt_time - cool_off)
    assert logged_in(attempt(client, "stella", PASSWORD))


def test_a_failure_during_the_lock_restarts_the_wait(client, staff_pair):
    for n in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, "stella", f"guess-{n}")
    half = settings.AXES_COOLOFF_TIME / 2
    for row in AccessAttempt.objects.all():
        AccessAttempt.objects.filter(pk=row.pk).update(attempt_time=row.attempt_time - half)
    assert attempt(client, "stella", "another-guess").status_code == 429
    for row in AccessAttempt.objects.all():
        AccessAttempt.objects.filter(pk=row.pk).update(attempt_time=row.attempt_time - half)
    # A full cool-off since the first failures, but only half since the last one: still locked.
    assert attempt(client, "stella", PASSWORD).status_code == 429


def test_reset_command_lifts_the_lock(client, staff_pair):
    for n in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, "stella", f"guess-{n}")
    assert attempt(client, "stella", PASSWORD).status_code == 429
    call_command("axes_reset_username", "stella")
    assert logged_in(attempt(client, "stella", PASSWORD))


def test_a_success_clears_the_failures_before_the_limit(client, staff_pair):
    for n in range(settings.AXES_FAILURE_LIMIT - 1):
        attempt(client, "stella", f"guess-{n}")
    assert logged_in(attempt(client, "stella", PASSWORD))
    client.logout()
    # The count started again: one more failure does not lock.
    attempt(client, "stella", "one-more-guess")
    assert logged_in(attempt(client, "stella", PASSWORD))


def test_limit_and_cool_off_come_from_settings(client, staff_pair, settings):
    settings.AXES_FAILURE_LIMIT = 2
    assert [attempt(client, "stella", f"guess-{n}").status_code for n in range(2)] == [200, 429]
    assert attempt(client, "stella", PASSWORD).status_code == 429


def test_behind_a_proxy_the_forwarded_address_counts_and_cannot_be_forged(
    client, staff_pair, settings
):
    settings.DJANGO_PROXY_COUNT = 1
    proxy = "10.0.0.2"
    for n in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, "stella", f"guess-{n}", address=proxy, HTTP_X_FORWARDED_FOR="203.0.113.9")
    # The attacker prepends a made-up address: the proxy's entry (rightmost) still counts.
    forged = "192.0.2.1, 203.0.113.9"
    assert (
        attempt(client, "stella", PASSWORD, address=proxy, HTTP_X_FORWARDED_FOR=forged).status_code
        == 429
    )
    # Another client behind the same proxy is a different address.
    assert logged_in(
        attempt(client, "stella", PASSWORD, address=proxy, HTTP_X_FORWARDED_FOR="203.0.113.50")
    )


def test_token_authentication_is_not_affected_by_a_locked_login(client, staff_pair, client_for):
    for n in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, "stella", f"guess-{n}")
    assert attempt(client, "stella", PASSWORD).status_code == 429
    api = client_for(staff_pair[0])
    assert api.get(api_path("project-list")).status_code == 200
