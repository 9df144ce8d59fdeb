"""The OpenAPI schema (/api/schema/) and the docs (/api/docs/): the schema
builds without warnings, the docs load without any CDN, and schemathesis
finds no 5xx and no answer that breaks the schema."""

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework.settings import api_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from payroll.api.serializers import SENSITIVE_WORKER_FIELDS
from payroll.integrations import api_key_create

pytestmark = pytest.mark.django_db
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def test_schema_builds_without_warnings(tmp_path):
    """drf-spectacular's own check: any warning fails, and the result is a
    valid OpenAPI 3 document."""
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--fail-on-warn", "--validate", "--file", str(out))
    text = out.read_text()
    assert "/api/v1/imports/" in text
    for name in SENSITIVE_WORKER_FIELDS:
        assert f" {name}:" not in text, name


def test_docs_are_served_without_a_cdn(client):
    """Swagger UI and Redoc come from drf-spectacular-sidecar's static files."""
    for url in ("/api/docs/", "/api/redoc/"):
        page = client.get(url)
        assert page.status_code == 200
        html = page.content.decode()
        assert "drf_spectacular_sidecar" in html
        for cdn in ("cdn.jsdelivr.net", "unpkg.com", "cdnjs"):
            assert cdn not in html


def test_schema_is_public_json(client):
    """The schema itself needs no login, in JSON on request."""
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    assert response.json()["info"]["title"] == "ParkPay API"


# Loaded when the tests are collected: building the schema reads no table.
# (schemathesis.pytest.from_fixture would load it lazily, but 4.32 does not
# work with pytest 9.)
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", WSGIHandler())


@pytest.fixture(autouse=True)
def keep_the_test_connection():
    """Requests through the WSGI handler close the database connection when
    they end (``close_old_connections``), which would end the test's
    transaction; Django's test client holds them back the same way."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def director_token(world, db, monkeypatch):
    # The fuzzer writes in bursts: no throttling in its way.
    for scope in ("auth", "write", "import"):
        monkeypatch.setitem(api_settings.DEFAULT_THROTTLE_RATES, scope, None)
    return api_key_create(user=world.a.director)


@schema.parametrize()
@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_api_conforms_to_its_schema(case, director_token):
    """Every operation, as a director of a park with data, with generated
    valid and invalid input: never a 5xx, always a documented status, media
    type and body."""
    case.call_and_validate(
        # Called through WSGI, where schemathesis does not undo gzip (which
        # the answers get for a client that accepts it, as real clients do
        # and decompress: tests/config/test_compression.py).
        headers={
            "Authorization": f"Token {director_token}",
            "Accept-Encoding": "identity",
        },
        checks=CHECKS,
    )


def test_an_unknown_api_address_is_a_json_404_for_a_session_delete(db):
    """A DELETE with a session cookie and no CSRF token to an address the API
    does not have (``/api/v1/worker-identities/-2.5e-313/``, as schemathesis
    sends) is the API's JSON 404, not Django's HTML CSRF page."""
    from django.test import Client

    from tests.factories import make_park, make_user

    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user("director", park=make_park()))
    response = client.delete("/api/v1/worker-identities/-2.5e-313/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
