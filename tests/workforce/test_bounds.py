"""The bounds of what can be entered (workforce/bounds.py), the same for the
services, the models, the imports and the API: a form error or a 400 that
names the field and its range, never a 500."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from rest_framework.test import APIClient

from payroll.models import RateCard
from payroll.services import rate_card_create
from tests.factories import add_record, make_catalogue, make_user, make_worker
from tests.payroll.test_imports import World, problems
from workforce import bounds

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue(park):
    return make_catalogue(park)


def test_units_have_a_stated_maximum(park, catalogue):
    worker = make_worker(park)
    with pytest.raises(ValidationError) as refused:
        add_record(worker, *catalogue, timezone.localdate(), bounds.MAX_UNITS)
    assert refused.value.message_dict["units"] == [bounds.units_error(10**6)]
    assert "999,999" in refused.value.message_dict["units"][0]


def test_a_work_date_is_between_the_opening_and_today(park, catalogue):
    worker = make_worker(park)
    park.opened_on = timezone.localdate() - timedelta(days=400)
    park.save()
    for day in (
        park.opened_on - timedelta(days=1),
        bounds.park_today(park) + timedelta(days=1),
    ):
        with pytest.raises(ValidationError) as refused:
            add_record(worker, *catalogue, day, 10)
        message = refused.value.message_dict["work_date"][0]
        assert str(park.opened_on) in message
        assert str(bounds.park_today(park)) in message


def test_a_rate_is_above_zero_and_at_most_the_policy_maximum(park, catalogue):
    project, task_type = catalogue
    start = timezone.localdate()
    for rate in (Decimal("0"), Decimal("1000.0001")):
        with pytest.raises(ValidationError) as refused:
            rate_card_create(
                project=project,
                task_type=task_type,
                skill_level="senior",
                rate=rate,
                effective_from=start,
            )
        assert refused.value.message_dict["rate"] == [bounds.rate_error(rate)]
    policy = park.policies.get()
    policy.max_rate = Decimal("5.0000")
    policy.save()
    with pytest.raises(ValidationError) as refused:
        rate_card_create(
            project=project,
            task_type=task_type,
            skill_level="senior",
            rate=Decimal("6"),
            effective_from=start,
        )
    assert "5.0000" in refused.value.message_dict["rate"][0]


def test_a_rate_card_starts_at_most_a_year_ahead_over_the_api(park, catalogue):
    project, task_type = catalogue
    client = APIClient()
    client.force_authenticate(make_user("director", park=park))
    far = bounds.park_today(park) + timedelta(days=400)
    response = client.post(
        "/api/v1/rate-cards/",
        {
            "project": project.pk,
            "task_type": task_type.pk,
            "skill_level": "senior",
            "rate": "0.6000",
            "effective_from": far.isoformat(),
        },
        format="json",
    )
    assert response.status_code == 400
    assert "effective_from" in response.json()
    assert not RateCard.objects.filter(effective_from=far).exists()


def test_a_month_out_of_range_over_the_api_is_a_400(park):
    client = APIClient()
    client.force_authenticate(make_user("director", park=park))
    far = (
        timezone.localdate().replace(day=1).replace(year=timezone.localdate().year + 2)
    )
    response = client.post(
        "/api/v1/pay-periods/", {"park": park.pk, "month": far.isoformat()}
    )
    assert response.status_code == 400 and "month" in response.json()


def test_an_import_row_dated_tomorrow_is_an_error_of_its_row(db):
    world = World()
    tomorrow = bounds.park_today(world.park) + timedelta(days=1)
    report = world.run(
        "employee_no,project,task_type,work_date,units,accuracy,external_id\n"
        f"E1001,drive-2d,box,{tomorrow},10,98.00,F-1\n"
    )
    assert not report.ok
    assert [(row, field) for row, field, _m in problems(report)] == [(2, "work_date")]


MONTH_PAGES = [
    ("worker", "/me/"),
    ("director", "/park/staff/"),
    ("director", "/park/staff.csv"),
    ("director", "/park/coverage/"),
    ("county_official", "/county/"),
    ("county_official", "/county/report.csv"),
]


@pytest.mark.parametrize(("role", "url"), MONTH_PAGES)
def test_a_month_before_the_parks_first_period_is_a_400(park, role, url):
    """``?month=`` runs from the park's first month (its opening) to next
    year: a month before the park opened has no period and is refused with the
    range, on every page that takes a month."""
    from django.test import Client

    park.opened_on = timezone.localdate().replace(day=1) - timedelta(days=200)
    park.save()
    first = park.opened_on.replace(day=1)
    before = (first - timedelta(days=1)).replace(day=1)
    worker = make_worker(park, with_login=True)
    user = worker.user if role == "worker" else make_user(role, park=park)
    client = Client(raise_request_exception=False)
    client.force_login(user)
    refused = client.get(url, {"month": f"{before:%Y-%m}"})
    assert refused.status_code == 400
    assert f"{first:%Y-%m}" in refused.content.decode()
    assert client.get(url, {"month": f"{first:%Y-%m}"}).status_code == 200


def test_a_pay_period_before_the_parks_opening_is_a_400_over_the_api(park):
    park.opened_on = timezone.localdate().replace(day=1) - timedelta(days=200)
    park.save()
    client = APIClient()
    client.force_authenticate(make_user("director", park=park))
    before = (park.opened_on.replace(day=1) - timedelta(days=1)).replace(day=1)
    response = client.post(
        "/api/v1/pay-periods/", {"park": park.pk, "month": before.isoformat()}
    )
    assert response.status_code == 400
    assert f"{park.opened_on:%Y-%m}" in response.json()["month"][0]
    opening = client.post(
        "/api/v1/pay-periods/",
        {"park": park.pk, "month": park.opened_on.replace(day=1).isoformat()},
    )
    assert opening.status_code == 201


def test_the_session_form_checks_the_bounds_itself(park):
    """The form refuses a day outside the park's life on its own field, and
    its date picker offers only the days that can be entered."""
    from workforce.forms import SessionForm

    park.opened_on = timezone.localdate() - timedelta(days=30)
    park.save()
    for day in (
        park.opened_on - timedelta(days=1),
        bounds.park_today(park) + timedelta(days=1),
    ):
        form = SessionForm(
            {"day": day.isoformat(), "start": "08:00", "end": "09:00"}, park=park
        )
        assert not form.is_valid()
        assert str(park.opened_on) in form.errors["day"][0]
    html = str(SessionForm(park=park)["day"])
    assert f'min="{park.opened_on}"' in html
    assert f'max="{bounds.park_today(park)}"' in html


def test_the_rate_card_form_and_serializer_check_the_bounds_themselves(park, catalogue):
    """The rates page's form and the API's serializer refuse a rate of
    99,999,999.9999 and a start on 9999-12-31 before any service is asked."""
    from payroll.api.views import RateCardViewSet
    from payroll.models import Project
    from payroll.views import RateCardForm

    project, task_type = catalogue
    data = {
        "project": project.pk,
        "task_type": task_type.pk,
        "skill_level": "senior",
        "rate": "99999999.9999",
        "effective_from": "9999-12-31",
    }
    form = RateCardForm(data, projects=Project.objects.filter(park=park), park=park)
    assert not form.is_valid()
    assert "1000.0000" in form.errors["rate"][0]
    assert (
        str(bounds.park_today(park) + bounds.RATE_CARD_AHEAD)
        in (form.errors["effective_from"][0])
    )
    serializer = RateCardViewSet.InputSerializer(
        data={**data, "effective_from": str(bounds.park_today(park))},
        context={"user": make_user("director", park=park)},
    )
    assert not serializer.is_valid()
    assert "1000.0000" in str(serializer.errors["rate"][0])


def test_the_correction_form_and_serializer_bound_the_units(db):
    from payroll.api.views import WorkRecordCorrectView
    from payroll.views import CorrectionForm

    form = CorrectionForm({"action": "correct", "units": "1000000", "reason": "x"})
    assert not form.is_valid()
    assert "999,999" in form.errors["units"][0]
    serializer = WorkRecordCorrectView.InputSerializer(
        data={"units": 1_000_000, "reason": "x"}
    )
    assert not serializer.is_valid()
    assert "999,999" in str(serializer.errors["units"][0])


def test_a_session_before_the_opening_over_the_api_is_a_400_on_its_start(park):
    from datetime import datetime, time
    from zoneinfo import ZoneInfo

    park.opened_on = timezone.localdate() - timedelta(days=30)
    park.save()
    worker = make_worker(park, with_login=True)
    client = APIClient()
    client.force_authenticate(worker.user)
    day = park.opened_on - timedelta(days=3)
    start = datetime.combine(day, time(8), tzinfo=ZoneInfo(park.time_zone))
    response = client.post(
        "/api/v1/work-sessions/",
        {"start": start.isoformat(), "end": (start + timedelta(hours=2)).isoformat()},
        format="json",
    )
    assert response.status_code == 400
    assert str(park.opened_on) in response.json()["start"][0]
