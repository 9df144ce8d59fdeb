"""Reading the API's resources, role by role (payroll/api): each sees what
the selectors give them; another person's object answers 404; a county
official and a park integration get 403; an anonymous caller 401."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from payroll.api.serializers import SENSITIVE_WORKER_FIELDS
from tests.factories import make_worker
from tests.payroll.api_world import ROLES, ids
from workforce.models import Worker

pytestmark = pytest.mark.django_db

PEOPLE_OF_A = {"worker", "other_worker", "director", "officer", "trainer"}
STAFF_OF_A = {"director", "officer", "trainer"}
# Resource: (path, the object of park A, the roles that see it).
RESOURCES = {
    "parks": ("parks", lambda p: p.park, PEOPLE_OF_A),
    "teams": ("teams", lambda p: p.team, PEOPLE_OF_A),
    "workers": ("workers", lambda p: p.worker, {"worker", *STAFF_OF_A}),
    "work-sessions": ("work-sessions", lambda p: p.session, {"worker", *STAFF_OF_A}),
    "clients": ("clients", lambda p: p.project.client, PEOPLE_OF_A),
    "projects": ("projects", lambda p: p.project, PEOPLE_OF_A),
    "task-types": (
        "task-types",
        lambda p: p.task_type,
        {*PEOPLE_OF_A, "other_director"},  # a catalogue shared by the parks
    ),
    "rate-cards": ("rate-cards", lambda p: p.rate_card, PEOPLE_OF_A),
    "quality-tiers": ("quality-tiers", lambda p: p.tier, PEOPLE_OF_A),
    "work-records": ("work-records", lambda p: p.record, {"worker", *STAFF_OF_A}),
    "pay-periods": ("pay-periods", lambda p: p.period, PEOPLE_OF_A),
    "payroll-runs": ("payroll-runs", lambda p: p.run, {"director", "officer"}),
    # Pay: its worker and the park's pay staff; trainers see none.
    "payslips": ("payslips", lambda p: p.payslip, {"worker", "director", "officer"}),
    "adjustments": (
        "adjustments",
        lambda p: p.adjustment,
        {"worker", "director", "officer"},
    ),
    "worker-identities": (
        "worker-identities",
        lambda p: p.identity,
        {"worker", "director", "officer"},
    ),
    "integrations": ("integrations", lambda p: p.integration, {"director"}),
}
REFUSED = {
    "anonymous": 401,
    "county": 403,
    "integration": 403,
    "other_integration": 403,
}
CASES = [(name, role) for name in RESOURCES for role in ROLES]


@pytest.mark.parametrize(("name", "role"), CASES)
def test_detail_by_role(world, name, role):
    """200 for whom the selectors show park A's object, 404 for everyone else
    of a park (another person's object), 401/403 for the rest."""
    path, get, visible = RESOURCES[name]
    obj = get(world.a)
    response = world.client(role).get(f"/api/v1/{path}/{obj.pk}/")
    expected = REFUSED.get(role) or (200 if role in visible else 404)
    assert response.status_code == expected, response.content
    if expected == 200:
        assert response.json()["id"] == obj.pk


@pytest.mark.parametrize(("name", "role"), CASES)
def test_list_by_role(world, name, role):
    """The list holds park A's object exactly for whom it is visible, and
    never park B's object to someone of park A."""
    path, get, visible = RESOURCES[name]
    response = world.client(role).get(f"/api/v1/{path}/", {"page_size": 500})
    if role in REFUSED:
        assert response.status_code == REFUSED[role]
        return
    found = ids(response)
    assert (get(world.a).pk in found) == (role in visible)
    if role != "other_director" and name != "task-types":
        assert get(world.b).pk not in found


@pytest.mark.parametrize("role", ["worker", "director"])
def test_no_sensitive_field_in_any_answer(world, role):
    """Ethnicity, household, birth year and returner never leave the API,
    not even for the director."""
    worker = Worker.objects.get(pk=world.a.worker.pk)
    worker.ethnicity, worker.sensitive_consent, worker.returner = "回族", True, True
    worker.save()
    client = world.client(role)
    for url in ("/api/v1/workers/", f"/api/v1/workers/{worker.pk}/"):
        text = client.get(url).content.decode()
        for name in SENSITIVE_WORKER_FIELDS:
            assert f'"{name}"' not in text
        assert "回族" not in text


def test_worker_answer_has_current_skill_level(world):
    """A worker's answer carries the skill level valid today (R3.2)."""
    data = world.client("director").get(f"/api/v1/workers/{world.a.worker.pk}/")
    assert data.json()["skill_level"] == "junior"


def test_payslip_comes_with_its_lines(world):
    """One payslip answers with every line (R14); the list without them."""
    client = world.client("worker")
    one = client.get(f"/api/v1/payslips/{world.a.payslip.pk}/").json()
    kinds = [line["kind"] for line in one["lines"]]
    assert "piece" in kinds and "bonus" in kinds
    assert one["net"] == str(world.a.payslip.net)
    listed = client.get("/api/v1/payslips/").json()["results"]
    assert [p["id"] for p in listed] == [world.a.payslip.pk]
    assert "lines" not in listed[0]


def test_run_shows_progress(world):
    """A payroll run answers its status and progress in per cent, to poll."""
    data = world.client("officer").get(f"/api/v1/payroll-runs/{world.a.run.pk}/")
    assert data.json()["status"] == "done" and data.json()["progress"] == 100


def test_filters_and_ordering(world):
    """django-filter narrows lists; ordering sorts them; bad values are 400."""
    client = world.client("director")
    mine = client.get("/api/v1/work-records/", {"worker": world.a.worker.pk})
    assert ids(mine) == {world.a.record.pk}
    dated = client.get(
        "/api/v1/work-records/",
        {"work_date_after": "2026-03-03", "work_date_before": "2026-03-31"},
    )
    assert ids(dated) == {world.a.other_record.pk}
    ordered = client.get("/api/v1/workers/", {"ordering": "-employee_no"}).json()
    numbers = [w["employee_no"] for w in ordered["results"]]
    assert numbers == sorted(numbers, reverse=True)
    assert client.get("/api/v1/work-records/", {"worker": "x"}).status_code == 400
    assert client.get("/api/v1/workers/", {"park": 2**70}).status_code == 400
    # Another park's id filters to nothing rather than revealing it exists.
    other = client.get("/api/v1/workers/", {"park": world.b.park.pk})
    assert ids(other) == set()


def test_pages(world):
    """Lists come in pages (``page_size`` up to 500); a page past the end is 404."""
    client = world.client("director")
    page = client.get("/api/v1/rate-cards/", {"page_size": 1}).json()
    assert page["count"] == 3 and len(page["results"]) == 1 and page["next"]
    assert client.get("/api/v1/rate-cards/", {"page": 99}).status_code == 404


@pytest.mark.parametrize("path", ["workers", "payslips", "work-records"])
def test_list_queries_do_not_grow_with_rows(world, path):
    """A list costs the same number of queries for 2 rows as for 10."""
    client = world.client("director")
    client.get(f"/api/v1/{path}/")  # warm caches (content types, roles)

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"/api/v1/{path}/").status_code == 200
        return len(queries)

    before = count()
    for _ in range(8):
        make_worker(world.a.park)
    assert count() == before


@pytest.mark.parametrize("bad_id", ["0", "-5", "abc", str(2**70)])
def test_odd_ids_answer_404(world, bad_id):
    """Any id that is not one of the caller's objects: a JSON 404, never 500."""
    client = world.client("director")
    for path in ("workers", "pay-periods"):
        response = client.get(f"/api/v1/{path}/{bad_id}/")
        assert response.status_code == 404
        assert response["Content-Type"] == "application/json"
    response = client.post(f"/api/v1/pay-periods/{bad_id}/approve/")
    assert response.status_code == 404
