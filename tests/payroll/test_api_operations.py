"""Writes through the API, role by role: each operation allowed to whom the
services allow it, 403 for a forbidden action on an object the caller sees,
404 for another's object, 400 with the field messages for refused values."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.cache import cache
from rest_framework.settings import api_settings
from rest_framework.test import APIClient

from audit.models import AuditEvent
from payroll.models import (
    ADJUSTMENT_POSITIVE,
    Adjustment,
    ApiKey,
    PayPeriod,
    PeriodStatus,
    RateCard,
    WorkerIdentity,
)
from tests.payroll.api_world import ROLES
from workforce.models import WorkSession

pytestmark = pytest.mark.django_db
REFUSED = {
    "anonymous": 401,
    "county": 403,
    "integration": 403,
    "other_integration": 403,
}


def expect(role: str, allowed: dict[str, int], default: int) -> int:
    return REFUSED.get(role) or allowed.get(role, default)


# Work sessions


@pytest.mark.parametrize("role", ROLES)
def test_log_a_work_session(world, role):
    """A worker logs their own hours (R6); nobody logs for someone else."""
    response = world.client(role).post(
        "/api/v1/work-sessions/",
        {"start": "2026-03-10T08:00:00+08:00", "end": "2026-03-10T12:30:00+08:00"},
    )
    status = expect(role, {"worker": 201, "other_worker": 201}, 403)
    assert response.status_code == status, response.content
    if status == 201:
        session = WorkSession.objects.get(pk=response.json()["id"])
        assert session.worker.user == world.user(role)
        assert response.json()["minutes"] == 270


def test_overlapping_session_is_a_400_with_the_reason(world):
    """The service's ValidationError is a 400 naming the field (R6.1)."""
    response = world.client("worker").post(
        "/api/v1/work-sessions/",
        {"start": "2026-03-02T09:00:00+08:00", "end": "2026-03-02T10:00:00+08:00"},
    )
    assert response.status_code == 400
    assert "overlaps" in response.json()["start"][0]


def test_session_far_in_the_past_is_refused(world):
    """A session in year 1 is a 400 on its field, never a time-zone overflow."""
    response = world.client("worker").post(
        "/api/v1/work-sessions/",
        {"start": "0001-01-01T00:00:00+08:00", "end": "0001-01-01T01:00:00+08:00"},
    )
    assert response.status_code == 400


# Rate cards


@pytest.mark.parametrize("role", ROLES)
def test_create_a_rate_card(world, role):
    """Director and payroll officer of the park (R3.1); a worker who sees the
    project is refused (403); another park's director does not see it (400:
    no such project for them)."""
    body = {
        "project": world.a.project.pk,
        "task_type": world.a.task_type.pk,
        "skill_level": "senior",
        "rate": "0.6500",
        "effective_from": "2026-04-01",
    }
    response = world.client(role).post("/api/v1/rate-cards/", body)
    status = expect(
        role,
        {"director": 201, "officer": 201, "other_director": 400},
        403,
    )
    assert response.status_code == status, response.content
    if status == 201:
        card = RateCard.objects.get(pk=response.json()["id"])
        assert card.rate == Decimal("0.6500") and card.created_by == world.user(role)
    if status == 400:
        assert "project" in response.json()


def test_overlapping_rate_card_is_a_400(world):
    """The service's R3.1 overlap message comes back as a 400 on its field."""
    client = world.client("director")
    body = {
        "project": world.a.project.pk,
        "task_type": world.a.task_type.pk,
        "skill_level": "junior",
        "rate": "0.7",
        "effective_from": "2019-01-01",
        "effective_to": "2021-01-01",
    }
    response = client.post("/api/v1/rate-cards/", body)
    assert response.status_code == 400
    assert "already valid from" in response.json()["effective_from"][0]


# Pay periods


@pytest.mark.parametrize("role", ROLES)
def test_open_a_pay_period(world, role):
    """Director or payroll officer opens a month; asking again answers it."""
    body = {"park": world.a.park.pk, "month": "2026-05-17"}
    response = world.client(role).post("/api/v1/pay-periods/", body)
    status = expect(role, {"director": 201, "officer": 201, "other_director": 400}, 403)
    assert response.status_code == status, response.content
    if status == 201:
        assert response.json()["month"] == "2026-05-01"
        again = world.client(role).post("/api/v1/pay-periods/", body)
        assert again.status_code == 200 and again.json()["id"] == response.json()["id"]


@pytest.mark.parametrize("role", ROLES)
def test_calculate_a_period(world, role, django_capture_on_commit_callbacks):
    """R13.1 for the director and payroll officer; a worker or trainer who sees
    the period gets 403; another park's director 404."""
    with django_capture_on_commit_callbacks(execute=True):
        response = world.client(role).post(
            f"/api/v1/pay-periods/{world.a.period.pk}/calculate/"
        )
    status = expect(
        role,
        {"director": 202, "officer": 202, "other_director": 404},
        403,
    )
    assert response.status_code == status, response.content
    if status == 202:
        assert response.json()["period"] == world.a.period.pk
        assert response.json()["status"] in {"queued", "running", "done"}


@pytest.mark.parametrize("role", ROLES)
def test_approve_a_period(world, role):
    """R13.2: only the park's director approves."""
    response = world.client(role).post(
        f"/api/v1/pay-periods/{world.a.period.pk}/approve/"
    )
    status = expect(role, {"director": 200, "other_director": 404}, 403)
    assert response.status_code == status, response.content
    if status == 200:
        assert response.json()["status"] == "approved"


@pytest.mark.parametrize("role", ROLES)
def test_mark_a_period_paid(world, role):
    """R13.4: director or payroll officer, once approved."""
    period = PayPeriod.objects.get(pk=world.a.period.pk)
    world.client("director").post(f"/api/v1/pay-periods/{period.pk}/approve/")
    response = world.client(role).post(f"/api/v1/pay-periods/{period.pk}/mark-paid/")
    status = expect(role, {"director": 200, "officer": 200, "other_director": 404}, 403)
    assert response.status_code == status, response.content
    period.refresh_from_db()
    assert (period.status == PeriodStatus.PAID) == (status == 200)


def test_wrong_moves_are_400_with_the_services_message(world):
    """Paying an unapproved period or approving twice: 400 with the service's words."""
    client = world.client("director")
    paid = client.post(f"/api/v1/pay-periods/{world.a.period.pk}/mark-paid/")
    assert paid.status_code == 400
    assert "approved" in paid.json()["non_field_errors"][0]
    client.post(f"/api/v1/pay-periods/{world.a.period.pk}/approve/")
    again = client.post(f"/api/v1/pay-periods/{world.a.period.pk}/approve/")
    assert again.status_code == 400 and "already" in again.json()["non_field_errors"][0]


# Adjustments


@pytest.mark.parametrize("role", ROLES)
def test_add_an_adjustment(world, role):
    """R9: director or payroll officer; the worker (who sees the period) 403;
    another worker does not see the worker named (400 on that field)."""
    body = {
        "worker": world.a.worker.pk,
        "kind": "allowance",
        "amount": "30.00",
        "reason": "Night shift",
    }
    response = world.client(role).post(
        f"/api/v1/pay-periods/{world.a.period.pk}/adjustments/", body
    )
    status = expect(
        role,
        {"director": 201, "officer": 201, "other_director": 404, "other_worker": 400},
        403,
    )
    assert response.status_code == status, response.content
    if status == 201:
        adjustment = Adjustment.objects.get(pk=response.json()["id"])
        assert adjustment.created_by == world.user(role)
        assert adjustment.amount == Decimal("30.00")


def test_adjustment_for_another_parks_worker_is_refused(world):
    """A worker the director does not see is an unknown worker (400)."""
    response = world.client("director").post(
        f"/api/v1/pay-periods/{world.a.period.pk}/adjustments/",
        {"worker": world.b.worker.pk, "kind": "bonus", "amount": "5", "reason": "x"},
    )
    assert response.status_code == 400 and "worker" in response.json()


def test_negative_adjustment_gets_the_r9_message(world):
    """A negative amount: 400 with R9's message from the model's rules."""
    response = world.client("director").post(
        f"/api/v1/pay-periods/{world.a.period.pk}/adjustments/",
        {"worker": world.a.worker.pk, "kind": "bonus", "amount": "-5", "reason": "x"},
    )
    assert response.status_code == 400
    assert response.json()["amount"] == [str(ADJUSTMENT_POSITIVE)]


# Worker identities


@pytest.mark.parametrize("role", ROLES)
def test_map_a_tool_user_to_a_worker(world, role):
    """Pay staff map tool users; the worker (who sees themself) 403; who does
    not see the worker gets 400 on that field."""
    body = {
        "worker": world.a.worker.pk,
        "tool": "cvat",
        "external_user": "Ma.XiaoLan@Park.example",
    }
    response = world.client(role).post("/api/v1/worker-identities/", body)
    status = expect(
        role,
        {"director": 201, "officer": 201, "other_director": 400, "other_worker": 400},
        403,
    )
    assert response.status_code == status, response.content
    if status == 201:
        assert response.json()["external_user"] == "ma.xiaolan@park.example"


@pytest.mark.parametrize("role", ROLES)
def test_remove_a_mapping(world, role):
    """Pay staff remove a mapping (204); its worker sees it but may not
    remove it (403); everyone else gets 404."""
    identity = world.a.identity
    response = world.client(role).delete(f"/api/v1/worker-identities/{identity.pk}/")
    status = expect(
        role,
        {"director": 204, "officer": 204, "worker": 403},
        404,
    )
    assert response.status_code == status, response.content
    assert WorkerIdentity.objects.filter(pk=identity.pk).exists() == (status != 204)


def test_a_tool_user_maps_to_one_worker(world):
    """A tool user already mapped: 400 naming the worker it maps to."""
    response = world.client("director").post(
        "/api/v1/worker-identities/",
        {
            "worker": world.a.other_worker.pk,
            "tool": "labelstudio",
            "external_user": world.a.identity.external_user,
        },
    )
    assert response.status_code == 400
    assert world.a.worker.employee_no in response.json()["external_user"][0]


# Park integrations (API keys)


@pytest.mark.parametrize("role", ROLES)
def test_create_an_api_key(world, role):
    """Only the park's director; the key comes back once and works."""
    response = world.client(role).post(
        f"/api/v1/parks/{world.a.park.pk}/integrations/", {"name": "Label Studio"}
    )
    status = expect(role, {"director": 201, "other_director": 404}, 403)
    assert response.status_code == status, response.content
    if status == 201:
        data = response.json()
        assert data["park"] == world.a.park.pk and data["active"]
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {data['token']}")
        assert client.get("/api/v1/workers/").status_code == 403  # import only
        listed = world.client("director").get("/api/v1/integrations/").json()
        assert "token" not in listed["results"][0]
        assert AuditEvent.objects.filter(action="integration.create").exists()


@pytest.mark.parametrize("role", ROLES)
def test_revoke_an_api_key(world, role):
    """The director revokes; the key stops working at once."""
    pk = world.a.integration.pk
    response = world.client(role).post(f"/api/v1/integrations/{pk}/revoke/")
    status = expect(role, {"director": 200}, 404)
    if role in {"worker", "other_worker", "trainer", "officer"}:
        status = 404  # integrations are the director's: invisible to others
    assert response.status_code == status, response.content
    revoked = status == 200
    active_key = ApiKey.objects.filter(user_id=pk, revoked_at__isnull=True)
    assert active_key.exists() != revoked
    if revoked:
        assert world.client("integration").post("/api/v1/imports/").status_code == 401


def test_key_creation_is_throttled(world, monkeypatch):
    """Scope ``auth``: past the rate, 429."""
    monkeypatch.setitem(api_settings.DEFAULT_THROTTLE_RATES, "auth", "2/hour")
    cache.clear()
    client = world.client("director")
    url = f"/api/v1/parks/{world.a.park.pk}/integrations/"
    codes = [client.post(url, {"name": f"k{n}"}).status_code for n in range(3)]
    assert codes == [201, 201, 429]


def test_writes_are_throttled_but_reads_are_not(world, monkeypatch):
    """Scope ``write``: the second write in the minute is 429; reads go on."""
    monkeypatch.setitem(api_settings.DEFAULT_THROTTLE_RATES, "write", "1/minute")
    cache.clear()
    client = world.client("director")
    body = {"park": world.a.park.pk, "month": "2026-06-01"}
    assert client.post("/api/v1/pay-periods/", body).status_code == 201
    assert client.post("/api/v1/pay-periods/", body).status_code == 429
    assert all(client.get("/api/v1/pay-periods/").status_code == 200 for _ in range(3))


def test_anonymous_gets_401_with_the_token_scheme(world):
    """No credentials: 401 with ``WWW-Authenticate: Token``."""
    response = APIClient().get("/api/v1/workers/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_month_out_of_range_is_refused(world):
    """A month the payroll cannot compute with (year 9999) is a 400."""
    response = world.client("director").post(
        "/api/v1/pay-periods/", {"park": world.a.park.pk, "month": "9999-12-01"}
    )
    assert response.status_code == 400 and "month" in response.json()


def test_period_of_the_other_park_is_not_found_for_adjustments(world):
    """Another park's period: 404, and no adjustment is added to it."""
    response = world.client("director").post(
        f"/api/v1/pay-periods/{world.b.period.pk}/adjustments/",
        {"worker": world.a.worker.pk, "kind": "bonus", "amount": "5", "reason": "x"},
    )
    assert response.status_code == 404
    assert not Adjustment.objects.filter(period=world.b.period, reason="x").exists()
    assert date(2026, 3, 1) == world.b.period.month
