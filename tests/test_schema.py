"""The OpenAPI schema and a property-based run of it (schemathesis) against a live server.

Every operation of ``/api/schema/`` gets generated requests, valid ones and malformed ones,
half of them aimed at rows that exist (so the handlers run past their 404s); none may answer
with a server error. Bounded examples keep the run well under a minute.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient
from schemathesis import GenerationMode

from jobs.enqueue import job_enqueue
from tests.factories import make_photo, make_project
from tests.test_api_paths import SPEC_PATHS
from tests.urls import api_path

pytestmark = pytest.mark.timeout(240)

POSITIVE_EXAMPLES = 8
NEGATIVE_EXAMPLES = 4


# SPEC paths the schema leaves out: itself, its docs page, the event stream and tus uploads.
NOT_IN_SCHEMA = {"api-schema", "api-docs", "event-stream", "upload-list"}


def schema_form(path: str, kwargs: dict) -> str:
    """``/api/photos/7/thumbnail`` as the schema writes it: ``/api/photos/{id}/thumbnail/``."""
    path = path if path.endswith("/") else f"{path}/"
    for key, value in kwargs.items():
        path = path.replace(f"/{value}/", "/{id}/" if key == "pk" else f"/{{{key}}}/")
    return path


def test_schema_is_served_and_lists_every_endpoint(db):
    response = APIClient().get(
        api_path("api-schema"), HTTP_ACCEPT="application/vnd.oai.openapi+json"
    )
    assert response.status_code == 200
    paths = set(response.json()["paths"])
    expected = [
        schema_form(path, kwargs)
        for path, name, kwargs in SPEC_PATHS
        if path.startswith("/api/") and name not in NOT_IN_SCHEMA
    ]
    assert "/api/photos/{id}/thumbnail/" in expected
    assert "/api/tasks/{task_id}/" in expected
    for path in expected:
        assert path in paths, path


def test_docs_page_is_served(db):
    response = APIClient().get(api_path("api-docs"))
    assert response.status_code == 200
    assert b"swagger" in response.content.lower()


def test_schema_generates_without_warnings():
    from drf_spectacular.drainage import GENERATOR_STATS
    from drf_spectacular.generators import SchemaGenerator

    GENERATOR_STATS.reset()
    SchemaGenerator().get_schema(request=None, public=True)
    assert not GENERATOR_STATS._warn_cache, list(GENERATOR_STATS._warn_cache)
    assert not GENERATOR_STATS._error_cache, list(GENERATOR_STATS._error_cache)


def _real_ids(tenant, user):
    project = make_project(tenant, "Fuzz target")
    photo = make_photo(project, "FUZZ_1", jpg=True, raw=True, keep_raw=False)
    job = job_enqueue(tenant=tenant, type="test_noop", project=project, items=[photo])[0]
    from jobs.tasks import start_task

    task = start_task("test_three_steps", tenant)
    return {
        "/api/projects/": {"id": project.pk},
        "/api/photos/": {"id": photo.pk},
        "/api/jobs/": {"id": job.pk},
        "/api/tasks/": {"task_id": task["task_id"]},
    }


def test_fuzzing_the_schema_finds_no_server_errors(live_server, tenant, user, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": dict.fromkeys(
            settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "100000/min"
        ),
    }
    real = _real_ids(tenant, user)
    headers = {"Authorization": f"Token {Token.objects.create(user=user).key}"}
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/schema/?format=json")
    failures: list[str] = []
    succeeded: set[str] = set()
    ran = 0

    for result in schema.get_all_operations():
        operation = result.ok()
        known = next((ids for prefix, ids in real.items() if operation.path.startswith(prefix)), {})
        wanted = {k: v for k, v in known.items() if "{" + k + "}" in operation.path}
        strategies = [operation.as_strategy(generation_mode=GenerationMode.POSITIVE)]
        if wanted:
            strategies.append(
                operation.as_strategy(
                    generation_mode=GenerationMode.POSITIVE, path_parameters=wanted
                )
            )

        def run(case, label: str) -> None:
            response = case.call(base_url=live_server.url, headers=headers, timeout=20)
            if response.status_code < 300:
                succeeded.add(f"{case.method} {case.operation.path}")
            if response.status_code >= 500:
                failures.append(
                    f"{label}: {case.method} {case.formatted_path} → {response.status_code}"
                )

        @hypothesis_settings(
            max_examples=POSITIVE_EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=st.one_of(*strategies))
        def positive(case):  # type: ignore[no-untyped-def]
            run(case, "positive")

        @hypothesis_settings(
            max_examples=NEGATIVE_EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(generation_mode=GenerationMode.NEGATIVE))
        def negative(case):  # type: ignore[no-untyped-def]
            run(case, "negative")

        positive()
        try:
            negative()
        except Exception as exc:
            # Some operations have nothing to break (no parameters, no body): not an API error.
            if "Unsatisfiable" not in type(exc).__name__ and "negative" not in str(exc).lower():
                raise
        ran += 1

    assert ran >= 28
    assert not failures, "\n".join(failures)
    # The run reached the handlers, not only authentication and 404s.
    assert len(succeeded) >= 20, sorted(succeeded)


def test_api_root_lists_where_to_start(client):
    body = client.get(api_path("api-root")).json()
    assert body["projects"].endswith("/api/projects/")
    assert body["docs"].endswith("/api/docs/") or body["docs"].endswith("/api/docs")


def test_api_docs_use_local_assets_not_a_cdn(db, client, django_user_model):
    user = django_user_model.objects.create_user("docs-reader", password="pw-docs-1")
    client.force_login(user)
    html = client.get(api_path("api-docs")).content.decode()
    assert "cdn.jsdelivr" not in html
    assert "/static/drf_spectacular_sidecar/" in html
