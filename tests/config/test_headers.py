"""Security headers on every answer, and the API documentation behind a staff
login where it is not public (production)."""

import re
from pathlib import Path

import pytest
from django.test import Client, override_settings

from tests.factories import make_park, make_user, make_worker

pytestmark = pytest.mark.django_db
TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\ssrc=)[^>]*>", re.I)
EVENT_HANDLER = re.compile(r"\son[a-z]+\s*=", re.I)


def directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    parts = (p.split() for p in policy.split(";") if p.strip())
    return {name: values for name, *values in parts}


def test_pages_have_a_csp_without_inline_scripts_and_a_permissions_policy():
    """Scripts only from ParkPay itself (no 'unsafe-inline'), nothing framed,
    no plug-ins; the browser's camera, microphone, location... switched off."""
    response = Client().get("/accounts/login/")
    csp = directives(response)
    assert csp["script-src"] == ["'self'"]
    assert csp["default-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in csp["script-src"]
    policy = response["Permissions-Policy"]
    for feature in ("camera=()", "microphone=()", "geolocation=()"):
        assert feature in policy


def test_templates_have_no_inline_scripts_or_event_handlers():
    """What the CSP would block: every script comes from a static file."""
    found = []
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text()
        found += [f"{path.name}: {m}" for m in INLINE_SCRIPT.findall(text)]
        found += [f"{path.name}: {m}" for m in EVENT_HANDLER.findall(text)]
    assert found == []


@pytest.mark.parametrize("url", ["/api/docs/", "/api/schema/", "/api/redoc/"])
@override_settings(API_DOCS_PUBLIC=False)
def test_api_docs_are_for_signed_in_staff(url):
    """Anonymous: to the login page; a worker: 404; the director: the page."""
    park = make_park()
    anonymous = Client().get(url)
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    worker = Client()
    worker.force_login(make_worker(park, with_login=True).user)
    assert worker.get(url).status_code == 404
    director = Client()
    director.force_login(make_user("director", park=park))
    assert director.get(url).status_code == 200


def test_swagger_page_runs_under_the_csp():
    """The Swagger page loads its start script from a URL, not inline."""
    response = Client().get("/api/docs/")
    assert response.status_code == 200
    assert INLINE_SCRIPT.findall(response.content.decode()) == []
    assert "https://" not in response.content.decode()
    script = Client().get("/api/docs/?script=")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    redoc = Client().get("/api/redoc/").content.decode()
    assert INLINE_SCRIPT.findall(redoc) == [] and "https://" not in redoc
