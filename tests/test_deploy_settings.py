"""HTTPS hardening set by environment (SPEC §14, docs/OPERATIONS.md#https).

The documented production environment (deploy/systemd/photolib.env.example, whose HTTPS lines
docs/OPERATIONS.md shows) passes ``manage.py check --deploy`` with no warning, run in a fresh
process with exactly that environment; without its HTTPS lines Django's warnings come back.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management.utils import get_random_secret_key

BASE = Path(settings.BASE_DIR)
ENV_EXAMPLE = BASE / "deploy" / "systemd" / "photolib.env.example"
OPERATIONS = BASE / "docs" / "OPERATIONS.md"
HTTPS_VARIABLES = {
    "DJANGO_SECURE_PROXY_SSL_HEADER",
    "DJANGO_SECURE_SSL_REDIRECT",
    "DJANGO_SESSION_COOKIE_SECURE",
    "DJANGO_CSRF_COOKIE_SECURE",
    "DJANGO_SECURE_HSTS_SECONDS",
    "DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "DJANGO_SECURE_HSTS_PRELOAD",
}


def env_lines(text: str) -> list[str]:
    return [
        line.strip()
        for line in text.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]


def production_env() -> dict[str, str]:
    """The example file's variables; its placeholder secret is replaced by a real one, as the
    file tells the operator to do."""
    env = dict(line.split("=", 1) for line in env_lines(ENV_EXAMPLE.read_text()))
    assert "CHANGE-ME" in env["DJANGO_SECRET_KEY"]
    env["DJANGO_SECRET_KEY"] = get_random_secret_key()
    return env


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    # Exactly that environment: nothing of the test run's own (no DJANGO_SETTINGS_MODULE).
    return subprocess.run(
        [sys.executable, str(BASE / "manage.py"), *args],
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **env},
        cwd=BASE,
        capture_output=True,
        text=True,
        timeout=120,
    )


def check_ids(output: str) -> set[str]:
    return set(re.findall(r"\(([\w.]+\.[WE]\d{3})\)", output))


def test_documented_production_environment_passes_check_deploy_with_no_warning():
    result = manage(production_env(), "check", "--deploy", "--fail-level", "WARNING")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert check_ids(output) == set(), output
    assert "System check identified no issues" in output


def test_without_the_https_lines_check_deploy_warns():
    env = {k: v for k, v in production_env().items() if k not in HTTPS_VARIABLES}
    result = manage(env, "check", "--deploy")
    ids = check_ids(result.stdout + result.stderr)
    assert {"security.W004", "security.W008", "security.W012", "security.W016"} <= ids


def test_the_environment_sets_the_https_settings():
    script = (
        "from django.conf import settings as s; print(repr((s.SECURE_PROXY_SSL_HEADER,"
        " s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE,"
        " s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SECURE_HSTS_PRELOAD,"
        " s.CSRF_TRUSTED_ORIGINS, s.DJANGO_PROXY_COUNT)))"
    )
    result = manage(production_env(), "shell", "-c", script)
    assert result.returncode == 0, result.stderr
    # The last line: Django's shell may first say which objects it imported.
    assert result.stdout.strip().splitlines()[-1] == repr(
        (
            ("HTTP_X_FORWARDED_PROTO", "https"),
            True,
            True,
            True,
            31536000,
            True,
            True,
            ["https://photos.example.com"],
            1,
        )
    )


def test_a_malformed_proxy_ssl_header_is_refused_at_start():
    env = production_env() | {"DJANGO_SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto"}
    result = manage(env, "check")
    assert result.returncode != 0
    assert "DJANGO_SECURE_PROXY_SSL_HEADER must be" in result.stderr


def test_exports_inside_the_photos_root_are_refused_at_start(tmp_path):
    env = production_env() | {
        "PHOTOS_ROOT": str(tmp_path / "photos"),
        "EXPORTS_ROOT": str(tmp_path / "photos" / "exports"),
    }
    result = manage(env, "check")
    assert result.returncode != 0
    assert "EXPORTS_ROOT must not be inside PHOTOS_ROOT" in result.stderr
    beside = env | {"EXPORTS_ROOT": str(tmp_path / "exports")}
    assert manage(beside, "check").returncode == 0


def test_operations_doc_shows_the_example_files_https_lines():
    text = OPERATIONS.read_text()
    section = text.split("## HTTPS", 1)[1]
    block = section.split("```sh", 1)[1].split("```", 1)[0]
    documented = env_lines(block)
    assert {line.split("=", 1)[0] for line in documented} >= HTTPS_VARIABLES
    assert set(documented) <= set(env_lines(ENV_EXAMPLE.read_text())) | {
        line for line in documented if line.startswith("DJANGO_SECRET_KEY=")
    }


@pytest.fixture
def https_settings(settings):  # type: ignore[no-untyped-def]
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_HSTS_PRELOAD = True
    settings.SESSION_COOKIE_SECURE = True
    settings.CSRF_COOKIE_SECURE = True
    return settings


def test_with_https_settings_plain_http_is_redirected_and_cookies_are_secure(
    client, db, https_settings
):
    plain = client.get("/admin/login/")
    assert plain.status_code == 301
    assert plain["Location"].startswith("https://")
    # Through the proxy (X-Forwarded-Proto: https): served, with HSTS and secure cookies.
    secure = client.get("/admin/login/", HTTP_X_FORWARDED_PROTO="https")
    assert secure.status_code == 200
    assert secure["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert secure.cookies["csrftoken"]["secure"] is True
