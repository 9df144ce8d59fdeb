"""The audit trail: every kind of change is recorded with who, when, before
and after, is shown to the director, and cannot be changed in the app."""

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.test import Client

from audit.models import AuditEvent
from payroll import periods
from payroll.models import QualityTier, RateCard
from payroll.services import rate_card_create
from tests.factories import make_catalogue, make_park, make_user, make_worker
from workforce.models import PayPolicy

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(park):
    user = User.objects.create_superuser("root", password="root-pass-123456")
    client = Client()
    client.force_login(user)
    return client, user


@pytest.fixture
def director(park):
    return make_user("director", park=park)


def last(action):
    return AuditEvent.objects.filter(action=action).latest("at", "id")


def test_rate_card_creation_is_audited(catalogue, director):
    project, task_type = catalogue
    card = rate_card_create(
        project=project,
        task_type=task_type,
        skill_level="senior",
        rate=Decimal("0.9000"),
        effective_from=date(2026, 5, 1),
        actor=director,
    )
    event = last("rate_card.create")
    assert (event.actor, event.object_id, event.after["rate"]) == (
        director,
        str(card.pk),
        "0.9000",
    )


def test_admin_cannot_edit_a_rate_card(admin_client, catalogue):
    """R3.1: cards are never edited, not even in the admin."""
    client, _user = admin_client
    card = RateCard.objects.first()
    response = client.post(
        f"/admin/payroll/ratecard/{card.pk}/change/", {"rate": "9.9999"}
    )
    assert response.status_code == 403
    card.refresh_from_db()
    assert card.rate != Decimal("9.9999")


def test_quality_tier_change_in_admin_is_audited(admin_client, catalogue):
    client, user = admin_client
    project, _task_type = catalogue
    tiers = list(project.quality_tiers.order_by("-min_accuracy"))
    data = {
        "client": project.client_id,
        "park": project.park_id,
        "code": project.code,
        "name": project.name,
        "active": "on",
        "quality_tiers-TOTAL_FORMS": str(len(tiers)),
        "quality_tiers-INITIAL_FORMS": str(len(tiers)),
        "quality_tiers-MIN_NUM_FORMS": "0",
        "quality_tiers-MAX_NUM_FORMS": "1000",
    }
    for i, tier in enumerate(tiers):
        data.update(
            {
                f"quality_tiers-{i}-id": tier.pk,
                f"quality_tiers-{i}-project": project.pk,
                f"quality_tiers-{i}-min_accuracy": tier.min_accuracy,
                f"quality_tiers-{i}-multiplier": "1.20" if i == 0 else tier.multiplier,
                f"quality_tiers-{i}-label": tier.label,
            }
        )
    response = client.post(f"/admin/payroll/project/{project.pk}/change/", data)
    assert response.status_code == 302, response.content[:2000]
    event = last("qualitytier.change")
    assert event.actor == user
    assert (event.before["multiplier"], event.after["multiplier"]) == ("1.10", "1.20")
    assert QualityTier.objects.get(pk=tiers[0].pk).multiplier == Decimal("1.20")


def test_pay_policy_change_in_admin_is_audited(admin_client, park):
    client, _user = admin_client
    policy = PayPolicy.objects.get(park=park)
    data = {
        "name": park.name,
        "code": park.code,
        "county": park.county,
        "township": park.township,
        "time_zone": park.time_zone,
        "policies-TOTAL_FORMS": "1",
        "policies-INITIAL_FORMS": "1",
        "policies-MIN_NUM_FORMS": "0",
        "policies-MAX_NUM_FORMS": "1000",
        "policies-0-id": policy.pk,
        "policies-0-park": park.pk,
        "policies-0-effective_from": policy.effective_from,
        "policies-0-min_monthly": "2200.00",
        "policies-0-min_hourly": policy.min_hourly,
        "policies-0-standard_hours": policy.standard_hours,
        "policies-0-training_stipend": policy.training_stipend,
        "policies-0-si_base_floor": policy.si_base_floor,
        "policies-0-si_base_ceiling": policy.si_base_ceiling,
        "policies-0-pension_rate": policy.pension_rate,
        "policies-0-medical_rate": policy.medical_rate,
        "policies-0-unemployment_rate": policy.unemployment_rate,
        "policies-0-max_rate": policy.max_rate,
    }
    response = client.post(f"/admin/workforce/park/{park.pk}/change/", data)
    assert response.status_code == 302, response.content[:2000]
    event = last("paypolicy.change")
    assert (event.before["min_monthly"], event.after["min_monthly"]) == (
        "2080.00",
        "2200.00",
    )


def test_sensitive_worker_fields_are_audited_without_values(admin_client, park):
    """A change of ethnicity is recorded as changed, never with the value."""
    client, _user = admin_client
    worker = make_worker(park, sensitive_consent=True, ethnicity="汉族")
    response = client.get(f"/admin/workforce/worker/{worker.pk}/change/")
    form = response.context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None}
    data.update(
        {
            "ethnicity": "东乡族",
            "sensitive_consent": "on",
            "park": park.pk,
            "team": worker.team_id,
            "hire_date": worker.hire_date,
            "skills-TOTAL_FORMS": "0",
            "skills-INITIAL_FORMS": "0",
            "skills-MIN_NUM_FORMS": "0",
            "skills-MAX_NUM_FORMS": "1000",
            "special_deductions-TOTAL_FORMS": "0",
            "special_deductions-INITIAL_FORMS": "0",
            "special_deductions-MIN_NUM_FORMS": "0",
            "special_deductions-MAX_NUM_FORMS": "1000",
        }
    )
    data.pop("user", None)
    data.pop("leave_date", None)
    response = client.post(f"/admin/workforce/worker/{worker.pk}/change/", data)
    assert response.status_code == 302, response.content[:3000]
    event = last("worker.change")
    assert event.after == {"ethnicity": "(changed)"}
    assert "东乡族" not in str(event.before) + str(event.after)


def test_adjustments_and_period_moves_are_audited(park, director):
    worker = make_worker(park)
    make_catalogue(park)
    period = periods.period_get_or_create(park=park, month=date(2026, 3, 1))
    periods.adjustment_add(
        period=period,
        worker=worker,
        kind="bonus",
        amount=Decimal("50"),
        reason="Night shift cover",
        actor=director,
    )
    assert last("adjustment.add").after["amount"] == "50"
    run = periods.payroll_run_start(period=period, actor=director, enqueue=False)
    periods.payroll_run_inline(run=run)
    assert last("period.calculated").after["status"] == "calculated"
    periods.period_approve(period=period, actor=director)
    event = last("period.approve")
    assert (event.actor, event.before, event.after) == (
        director,
        {"status": "calculated"},
        {"status": "approved"},
    )


def test_director_sees_the_trail_but_cannot_change_it(park, director, admin_client):
    rate_card_create(
        project=make_catalogue(park)[0],
        task_type=RateCard.objects.first().task_type,
        skill_level="senior",
        rate=Decimal("1"),
        effective_from=date(2026, 6, 1),
        actor=director,
    )
    client = Client()
    client.force_login(director)
    page = client.get("/park/audit/")
    assert page.status_code == 200
    assert "rate_card.create" in page.content.decode()
    other = make_user("director", park=make_park())
    other_client = Client()
    other_client.force_login(other)
    assert "rate_card.create" not in other_client.get("/park/audit/").content.decode()
    admin, _user = admin_client
    event = AuditEvent.objects.first()
    assert (
        admin.post(
            f"/admin/audit/auditevent/{event.pk}/delete/", {"post": "yes"}
        ).status_code
        == 403
    )
    assert AuditEvent.objects.filter(pk=event.pk).exists()
