"""One table: every role × every page and API endpoint → the expected answer.

Roles: anonymous, a worker, another worker of the same park, the park's
director, payroll officer and trainer, a county official, another park's
director, the park's integration key and another park's key. Pages use
sessions (a key alone is anonymous there); the API takes both.

Every successful answer is also searched for the sensitive personal fields
(ethnicity, monitored household, birth year): they never leave the database
except as aggregates.
"""

import pytest
from django.test import Client

from tests.payroll.api_world import ROLES

pytestmark = pytest.mark.django_db

ANON = 302  # pages send an anonymous visitor to the login page
PAGE_ROLES = ("worker", "other_worker", "director", "officer", "trainer", "county")

# (name, url(world), {role: status}); roles not named answer 404.
WORKER_PAGE = {"worker": 200, "other_worker": 200}
PAY_STAFF_OWN_PARK = {"director": 200, "officer": 200, "other_director": 200}
PAGES = [
    ("worker home", lambda w: "/me/", WORKER_PAGE),
    ("worker hours", lambda w: "/me/hours/", WORKER_PAGE),
    ("worker payslips", lambda w: "/me/payslips/", WORKER_PAGE),
    ("worker training", lambda w: "/me/training/", WORKER_PAGE),
    ("worker income certificates", lambda w: "/me/certificates/", WORKER_PAGE),
    ("worker annual summary", lambda w: "/me/annual/", WORKER_PAGE),
    ("worker profile", lambda w: "/me/profile/", WORKER_PAGE),
    (
        "a payslip",
        lambda w: f"/payslips/{w.a.payslip.number}/",
        {"worker": 200, "director": 200, "officer": 200},
    ),
    (
        "a payslip's PDF",
        lambda w: f"/payslips/{w.a.payslip.number}/pdf/",
        {"worker": 200, "director": 200, "officer": 200},
    ),
    ("staff table", lambda w: "/park/staff/", PAY_STAFF_OWN_PARK),
    ("staff CSV", lambda w: "/park/staff.csv", PAY_STAFF_OWN_PARK),
    ("trends", lambda w: "/park/trends/", PAY_STAFF_OWN_PARK),
    ("coverage", lambda w: "/park/coverage/", PAY_STAFF_OWN_PARK),
    ("payroll periods", lambda w: "/park/payroll/", PAY_STAFF_OWN_PARK),
    ("rates", lambda w: "/park/rates/", PAY_STAFF_OWN_PARK),
    ("income certificates", lambda w: "/park/certificates/", PAY_STAFF_OWN_PARK),
    ("annual summaries", lambda w: "/park/annual/", PAY_STAFF_OWN_PARK),
    (
        "identity data to confirm",
        lambda w: "/park/identity-changes/",
        PAY_STAFF_OWN_PARK,
    ),
    (
        "bank file layout",
        lambda w: "/park/bank-layout/",
        {"director": 200, "other_director": 200},
    ),
    (
        "a period of park A",
        lambda w: f"/park/payroll/{w.a.period.pk}/",
        {"director": 200, "officer": 200},
    ),
    (
        "a run of park A",
        lambda w: f"/park/runs/{w.a.run.pk}/",
        {"director": 200, "officer": 200},
    ),
    (
        "a worker's password",
        lambda w: f"/park/workers/{w.a.worker.pk}/password/",
        {"director": 200},
    ),
    ("audit trail", lambda w: "/park/audit/", {"director": 200, "other_director": 200}),
    (
        "training report",
        lambda w: "/park/training/",
        {**PAY_STAFF_OWN_PARK, "trainer": 200},
    ),
    ("employment report", lambda w: "/county/", {"county": 200}),
    ("employment CSV", lambda w: "/county/report.csv", {"county": 200}),
]

# API: (name, path(world), {role: status}); 401 anonymous; roles not named 404.
API_PEOPLE = {
    r: 200 for r in ("worker", "other_worker", "director", "officer", "trainer")
}
API_STAFF = {"director": 200, "officer": 200, "trainer": 200}
NO_ACCESS = {"county": 403, "integration": 403, "other_integration": 403}
API = [
    ("parks list", lambda w: "/api/v1/parks/", {**API_PEOPLE, "other_director": 200}),
    ("park A", lambda w: f"/api/v1/parks/{w.a.park.pk}/", API_PEOPLE),
    (
        "workers list",
        lambda w: "/api/v1/workers/",
        {**API_PEOPLE, "other_director": 200},
    ),
    (
        "worker A",
        lambda w: f"/api/v1/workers/{w.a.worker.pk}/",
        {"worker": 200, **API_STAFF},
    ),
    (
        "a session of worker A",
        lambda w: f"/api/v1/work-sessions/{w.a.session.pk}/",
        {"worker": 200, **API_STAFF},
    ),
    (
        "a record of worker A",
        lambda w: f"/api/v1/work-records/{w.a.record.pk}/",
        {"worker": 200, **API_STAFF},
    ),
    (
        "rate cards of A",
        lambda w: f"/api/v1/rate-cards/{w.a.rate_card.pk}/",
        API_PEOPLE,
    ),
    ("period of A", lambda w: f"/api/v1/pay-periods/{w.a.period.pk}/", API_PEOPLE),
    (
        "run of A",
        lambda w: f"/api/v1/payroll-runs/{w.a.run.pk}/",
        {"director": 200, "officer": 200},
    ),
    (
        "payslip of worker A",
        lambda w: f"/api/v1/payslips/{w.a.payslip.pk}/",
        {"worker": 200, "director": 200, "officer": 200},
    ),
    (
        "adjustment of worker A",
        lambda w: f"/api/v1/adjustments/{w.a.adjustment.pk}/",
        {"worker": 200, "director": 200, "officer": 200},
    ),
]

# Worker A's values, and the fields as keys of JSON or names of form fields.
SENSITIVE = (
    "东乡族",
    "1977",
    '"ethnicity"',
    '"monitored_household"',
    '"birth_year"',
    'name="ethnicity"',
)


@pytest.fixture
def sensitive(world):
    """Worker A has sensitive personal data recorded (with consent)."""
    from workforce.models import Worker

    Worker.objects.filter(pk=w_pk(world)).update(
        ethnicity="东乡族",
        monitored_household=True,
        sensitive_consent=True,
        birth_year=1977,
    )
    return world


def w_pk(world):
    return world.a.worker.pk


def page_client(world, role: str) -> Client:
    client = Client()
    client.cookies["django_language"] = "en"
    user = world.user(role)
    if role not in ("anonymous", "integration", "other_integration"):
        client.force_login(user)
    return client


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("name", "url", "allowed"), PAGES, ids=[p[0] for p in PAGES])
def test_pages(sensitive, role, name, url, allowed):
    world = sensitive
    response = page_client(world, role).get(url(world))
    if role in ("anonymous", "integration", "other_integration"):
        expected = ANON
    else:
        expected = allowed.get(role, 404)
    assert response.status_code == expected, f"{name} as {role}"
    if response.status_code == 200:
        body = (
            b"".join(response.streaming_content)
            if response.streaming
            else response.content
        )
        if response.get("Content-Type", "").startswith("application/pdf"):
            return
        text = body.decode("utf-8", "replace")
        for value in SENSITIVE:
            assert value not in text, f"{value!r} on {name} as {role}"


def api_expected(role: str, allowed: dict) -> int:
    if role == "anonymous":
        return 401
    return NO_ACCESS.get(role) or allowed.get(role, 404)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("name", "path", "allowed"), API, ids=[a[0] for a in API])
def test_api(sensitive, role, name, path, allowed):
    world = sensitive
    response = world.client(role).get(path(world))
    expected = api_expected(role, allowed)
    assert response.status_code == expected, f"{name} as {role}"
    if response.status_code == 200:
        text = response.content.decode()
        for value in SENSITIVE:
            assert value not in text, f"{value!r} in {name} as {role}"


# Writes: (name, path(world), body, {role: status}); as above, 401 anonymous,
# 403 without a park role, roles not named 404.
RECORD_STAFF = {"worker": 403, "trainer": 403, "director": 200, "officer": 200}
API_WRITES = [
    (
        "void a record of worker A",
        lambda w: f"/api/v1/work-records/{w.a.record.pk}/void/",
        {"reason": "Counted twice"},
        RECORD_STAFF,
    ),
    (
        "correct a record of worker A",
        lambda w: f"/api/v1/work-records/{w.a.record.pk}/correct/",
        {"units": 90, "reason": "Recount"},
        RECORD_STAFF,
    ),
    (
        "correct the hours of worker A",
        lambda w: f"/api/v1/work-sessions/{w.a.session.pk}/correct/",
        {
            "start": "2026-03-02T08:00:00+08:00",
            "end": "2026-03-02T12:00:00+08:00",
            "reason": "Forgot to clock out",
        },
        RECORD_STAFF,
    ),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    ("name", "path", "body", "allowed"), API_WRITES, ids=[a[0] for a in API_WRITES]
)
def test_api_writes(world, role, name, path, body, allowed):
    response = world.client(role).post(path(world), body, format="json")
    expected = api_expected(role, allowed)
    assert response.status_code == expected, f"{name} as {role}: {response.content}"
