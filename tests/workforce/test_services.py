"""Workforce invariants: every bad input is a ValidationError naming its field."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from tests.factories import make_worker
from workforce import models as m
from workforce.selectors import skill_level_on
from workforce.services import (
    SKILL_NOT_AFTER,
    work_session_clock_in,
    work_session_clock_out,
    work_session_log,
    worker_leave,
    worker_set_skill_level,
)

SH = ZoneInfo("Asia/Shanghai")
pytestmark = pytest.mark.django_db


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SH)


DAY = date(2026, 3, 10)


def field_errors(exc: ValidationError, field: str) -> list[str]:
    return [str(e) for e in exc.value.message_dict[field]]


def test_session_minutes_and_local_date(worker):
    """A session's minutes and work date (park time) are derived on save."""
    session = work_session_log(worker=worker, start=at(DAY, 0, 30), end=at(DAY, 6, 45))
    assert session.minutes == 375
    assert session.work_date == DAY  # 00:30 Shanghai is still the 10th there


def test_overlapping_session_is_refused(worker):
    """R6.1: a session overlapping another of the same worker is refused."""
    work_session_log(worker=worker, start=at(DAY, 8), end=at(DAY, 11))
    with pytest.raises(ValidationError) as exc:
        work_session_log(worker=worker, start=at(DAY, 10, 59), end=at(DAY, 12))
    assert "overlaps" in field_errors(exc, "start")[0]
    assert m.WorkSession.objects.count() == 1


def test_adjacent_sessions_are_fine(worker):
    """Sessions that touch end-to-start do not overlap."""
    work_session_log(worker=worker, start=at(DAY, 8), end=at(DAY, 11))
    work_session_log(worker=worker, start=at(DAY, 11), end=at(DAY, 12))
    assert m.WorkSession.objects.count() == 2


def test_other_workers_may_overlap(park, worker):
    other = make_worker(park)
    work_session_log(worker=worker, start=at(DAY, 8), end=at(DAY, 11))
    work_session_log(worker=other, start=at(DAY, 8), end=at(DAY, 11))
    assert m.WorkSession.objects.count() == 2


@pytest.mark.parametrize(
    ("end", "message"),
    [
        (at(DAY, 8) + timedelta(hours=17), m.SESSION_TOO_LONG),
        (at(DAY, 8) + timedelta(seconds=30), m.SESSION_TOO_SHORT),
        (at(DAY, 7), m.SESSION_END_BEFORE_START),
    ],
)
def test_session_length_limits(worker, end, message):
    """R6.1: at least 1 minute, at most 16 hours, end after start."""
    with pytest.raises(ValidationError) as exc:
        work_session_log(worker=worker, start=at(DAY, 8), end=end)
    assert field_errors(exc, "end") == [str(message)]
    assert not m.WorkSession.objects.exists()


def test_sixteen_hours_exactly_is_allowed(worker):
    session = work_session_log(
        worker=worker, start=at(DAY, 6), end=at(DAY, 6) + timedelta(hours=16)
    )
    assert session.minutes == 960


def test_session_in_future_is_refused(worker):
    """R6.1: a session does not start in the future."""
    start = timezone.now() + timedelta(hours=2)
    with pytest.raises(ValidationError) as exc:
        work_session_log(worker=worker, start=start, end=start + timedelta(hours=1))
    assert field_errors(exc, "start") == [str(m.SESSION_IN_FUTURE)]


def test_clock_in_and_out(worker):
    """Clocking in opens a session; a second clock-in is refused; out closes it."""
    now = timezone.now()
    work_session_clock_in(worker=worker, now=now - timedelta(hours=2))
    with pytest.raises(ValidationError):
        work_session_clock_in(worker=worker, now=now - timedelta(hours=1))
    session = work_session_clock_out(worker=worker, now=now)
    assert session.minutes == 120
    assert session.end == now


def test_leave_before_hire_is_refused(worker):
    with pytest.raises(ValidationError) as exc:
        worker_leave(worker=worker, leave_date=worker.hire_date - timedelta(days=1))
    assert field_errors(exc, "leave_date") == [str(m.LEAVE_BEFORE_HIRE)]
    worker.refresh_from_db()
    assert worker.leave_date is None


def test_sensitive_fields_need_consent(park):
    """Ethnicity and household status are stored only with consent."""
    with pytest.raises(ValidationError) as exc:
        make_worker(park, ethnicity="东乡族", sensitive_consent=False)
    assert "sensitive_consent" in exc.value.message_dict
    worker = make_worker(park, ethnicity="东乡族", sensitive_consent=True)
    assert worker.ethnicity == "东乡族"


def test_skill_history_is_an_interval_chain(worker):
    """A new level closes the open one; the level on a date is the one in force."""
    worker_set_skill_level(worker=worker, level="senior", valid_from=date(2026, 3, 16))
    assert skill_level_on(worker=worker, day=date(2026, 3, 15)) == "junior"
    assert skill_level_on(worker=worker, day=date(2026, 3, 16)) == "senior"
    assert worker.skills.filter(valid_to__isnull=True).count() == 1
    with pytest.raises(ValidationError) as exc:
        worker_set_skill_level(
            worker=worker, level="junior", valid_from=date(2026, 3, 1)
        )
    assert field_errors(exc, "valid_from") == [
        str(SKILL_NOT_AFTER % {"day": date(2026, 3, 16)})
    ]


def test_roles_exist():
    from django.contrib.auth.models import Group

    assert set(Group.objects.values_list("name", flat=True)) >= {
        "worker",
        "trainer",
        "director",
        "payroll_officer",
        "county_official",
    }


def test_r10_1_insured_follows_the_contract_unless_chosen(park):
    """R10.1: a new worker or a new contract without an explicit choice is
    insured when full-time, not otherwise; an explicit choice wins."""
    from tests.factories import make_worker
    from workforce.services import worker_set_contract

    full = make_worker(park, contract="full_time")
    part = make_worker(park, contract="part_time")
    chosen = make_worker(park, contract="full_time", insured=False)
    assert (full.insured, part.insured, chosen.insured) == (True, False, False)
    worker_set_contract(worker=part, contract="full_time")
    worker_set_contract(worker=full, contract="part_time")
    part.refresh_from_db()
    full.refresh_from_db()
    assert (part.insured, full.insured) == (True, False)


def test_an_overlapping_session_added_in_the_admin_is_a_form_error(worker):
    """The admin's session form asks the same overlap rule as the services
    (R6.1): the page says why, nothing is saved, never a 500."""
    from django.contrib.auth.models import User
    from django.test import Client

    day = timezone.localdate() - timedelta(days=2)
    start = datetime(day.year, day.month, day.day, 8, tzinfo=SH)
    work_session_log(worker=worker, start=start, end=start + timedelta(hours=4))
    client = Client()
    client.force_login(User.objects.create_superuser("root", password="x-123456"))
    response = client.post(
        "/admin/workforce/worksession/add/",
        {
            "worker": worker.pk,
            "start_0": day.isoformat(),
            "start_1": "10:00:00",
            "end_0": day.isoformat(),
            "end_1": "13:00:00",
        },
    )
    assert response.status_code == 200
    assert (
        "overlaps" in response.content.decode() or "重叠" in response.content.decode()
    )
    assert worker.sessions.count() == 1
