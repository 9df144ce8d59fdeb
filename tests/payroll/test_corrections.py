"""Corrections of work records (R13.5): a frozen month's record is voided or
corrected by a new event paid in the next open period, never edited."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from rest_framework.test import APIClient

from audit.models import AuditEvent
from payroll import corrections, engine, periods
from payroll.backup import period_export, period_export_verify
from payroll.calculation import month_bounds
from payroll.models import WorkCorrection, WorkRecord
from tests.factories import (
    add_record,
    calculate,
    make_catalogue,
    make_user,
    make_worker,
)
from tests.payroll.test_frozen import at, last_month
from workforce.services import work_session_correct, work_session_log

pytestmark = pytest.mark.django_db


def month_before(month: date) -> date:
    return (month - timedelta(days=1)).replace(day=1)


@pytest.fixture
def director(park):
    return make_user("director", park=park)


@pytest.fixture
def frozen(park, director):
    """Last month approved: one record of 400 boxes at 0.50 × 1.00 (200.00)."""
    worker = make_worker(park, with_login=True)
    project, task_type = make_catalogue(park)
    month = last_month()
    record = add_record(worker, project, task_type, month, 400, "96.00")
    work_session_log(worker=worker, start=at(month, 8), end=at(month, 12))
    period = periods.period_get_or_create(park=park, month=month)
    calculate(period)
    periods.period_approve(period=period, actor=director)
    following = periods.period_get_or_create(park=park, month=month_bounds(month)[1])
    return period, following, worker, record


def snapshot(period):
    return [
        (
            p.number,
            p.net,
            p.taxable,
            [(ln.kind, ln.quantity, ln.amount) for ln in p.lines.order_by("position")],
        )
        for p in period.payslips.order_by("number")
    ]


def corrections_of(period, worker):
    slip = period.payslips.get(worker=worker)
    return list(slip.lines.filter(kind="correction").order_by("position"))


def test_engine_gives_one_line_per_correction_rounded_once():
    item = engine.CorrectionItem(
        project="P",
        task_type="T",
        unit="box",
        rate=Decimal("0.3333"),
        multiplier=Decimal("1.10"),
        tier="excellent",
        units=-3,
        corrects="2026-03",
        reason="duplicate",
    )
    result = engine.compute_pay(
        engine.PayInput(contract="training", minutes=0, corrections=(item, item))
    )
    lines = [ln for ln in result.lines if ln.kind == engine.LineKind.CORRECTION]
    assert [ln.amount for ln in lines] == [Decimal("-1.10"), Decimal("-1.10")]
    assert lines[0].period == "2026-03" and lines[0].reason == "duplicate"
    assert result.piece_pay == Decimal("-2.20")
    assert result.net == 0 and result.carried_forward == Decimal("2.20")


def test_r13_5_a_void_in_a_frozen_month_is_paid_back_in_the_next(frozen, director):
    """A record of 400 boxes at 0.50 × 1.00 in an approved month voided: the
    next month carries 'correction of YYYY-MM' -200.00; the record and the
    approved payslip stay as they were."""
    period, following, worker, record = frozen
    before = snapshot(period)
    made = corrections.work_record_void(
        record=record, reason="Counted twice", actor=director
    )
    assert made.booked_month == following.month
    record.refresh_from_db()
    assert record.units == 400
    calculate(following)
    (line,) = corrections_of(following, worker)
    assert (line.quantity, line.rate, line.multiplier) == (
        Decimal(-400),
        Decimal("0.5000"),
        Decimal("1.00"),
    )
    assert line.amount == Decimal("-200.00") and line.ref_period == period.label
    assert line.reason == "Counted twice"
    assert snapshot(period) == before
    assert AuditEvent.objects.filter(action="work_record.correction.void").exists()
    with pytest.raises(ValidationError):
        corrections.work_record_void(record=record, reason="again", actor=director)


def test_r13_5_units_and_accuracy_corrections_price_the_difference(frozen, director):
    _period, following, worker, record = frozen
    made = corrections.work_record_correct(
        record=record,
        units=300,
        accuracy=Decimal("98.50"),
        reason="Review redone",
        actor=director,
    )
    assert [c.kind for c in made] == ["units", "accuracy"]
    calculate(following)
    units, accuracy = corrections_of(following, worker)
    # (300 - 400) × 0.50 × 1.00, then 300 × 0.50 × (1.10 - 1.00)
    assert units.amount == Decimal("-50.00") and units.tier == "standard"
    assert accuracy.amount == Decimal("15.00") and accuracy.tier == "excellent"
    assert accuracy.multiplier == Decimal("0.10")
    # A later void takes back what is left: 300 × 0.50 × 1.10.
    corrections.work_record_void(record=record, reason="Wrong worker", actor=director)
    calculate(following)
    assert [ln.amount for ln in corrections_of(following, worker)] == [
        Decimal("-50.00"),
        Decimal("15.00"),
        Decimal("-165.00"),
    ]
    slip = following.payslips.get(worker=worker)
    document = period_export(period=following)
    assert period_export_verify(document=document).ok
    assert slip.piece_pay == Decimal("-200.00")


def test_in_an_open_month_the_record_itself_changes_and_is_audited(park, director):
    worker = make_worker(park)
    project, task_type = make_catalogue(park)
    record = add_record(worker, project, task_type, last_month(), 50)
    assert (
        corrections.work_record_correct(
            record=record, units=40, reason="Recount", actor=director
        )
        == []
    )
    record.refresh_from_db()
    assert record.units == 40
    event = AuditEvent.objects.get(action="work_record.correct")
    assert event.before["units"] == 50 and event.after["units"] == 40
    assert event.after["reason"] == "Recount"
    assert (
        corrections.work_record_void(record=record, reason="Test", actor=director)
        is None
    )
    assert not WorkRecord.objects.filter(pk=record.pk).exists()
    assert AuditEvent.objects.filter(action="work_record.void").exists()


def test_a_reason_is_required_and_only_pay_staff_correct(frozen, park):
    _period, _following, worker, record = frozen
    officer = make_user("payroll_officer", park=park)
    with pytest.raises(ValidationError) as refused:
        corrections.work_record_void(record=record, reason="  ", actor=officer)
    assert "reason" in refused.value.message_dict
    for actor in (worker.user, make_user("trainer", park=park)):
        with pytest.raises(PermissionDenied):
            corrections.work_record_void(record=record, reason="x", actor=actor)
    assert not WorkCorrection.objects.exists()


def test_a_correction_made_after_the_next_calculation_moves_on_at_approval(
    park, director
):
    """The month before last approved, last month calculated; a correction of
    the earlier month is booked in last month, and approving last month from
    its older calculation moves it to this month (not lost, not paid twice)."""
    worker = make_worker(park)
    project, task_type = make_catalogue(park)
    first, second = month_before(last_month()), last_month()
    record = add_record(worker, project, task_type, first, 100)
    add_record(worker, project, task_type, second, 10)
    p1 = periods.period_get_or_create(park=park, month=first)
    calculate(p1)
    periods.period_approve(period=p1, actor=director)
    p2 = periods.period_get_or_create(park=park, month=second)
    calculate(p2)
    made = corrections.work_record_void(record=record, reason="x", actor=director)
    assert made.booked_month == second
    periods.period_approve(period=p2, actor=director)
    made.refresh_from_db()
    assert made.booked_month == month_bounds(second)[1]
    assert not p2.payslips.get(worker=worker).lines.filter(kind="correction")


def test_api_void_and_correct(frozen, director, park):
    _period, following, worker, record = frozen
    api = APIClient()
    api.force_authenticate(director)
    base = f"/api/v1/work-records/{record.pk}"
    assert api.post(f"{base}/correct/", {"reason": "x"}).status_code == 400
    answer = api.post(
        f"{base}/correct/", {"units": 390, "reason": "Recount"}, format="json"
    )
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert body["record"]["id"] == record.pk and body["corrections"][0]["kind"] == (
        "units"
    )
    assert body["corrections"][0]["booked_month"] == str(following.month)
    answer = api.post(f"{base}/void/", {"reason": "Wrong"}, format="json")
    assert answer.status_code == 201 and answer.json()["corrections"][0]["kind"] == (
        "void"
    )
    worker_api = APIClient()
    worker_api.force_authenticate(worker.user)
    assert worker_api.post(f"{base}/void/", {"reason": "x"}).status_code == 403


def test_the_page_voids_a_frozen_record_and_the_period_lists_it(frozen, director):
    period, following, worker, record = frozen
    client = Client()
    client.cookies["django_language"] = "en"
    client.force_login(director)
    listing = client.get(
        f"/park/payroll/{period.pk}/records/?employee_no={worker.employee_no}"
    )
    assert listing.status_code == 200
    url = f"/park/records/{record.pk}/correct/"
    assert url in listing.content.decode()
    form = client.get(url)
    assert form.status_code == 200 and b'name="reason"' in form.content
    refused = client.post(url, {"action": "void", "reason": ""})
    assert refused.status_code == 200 and not WorkCorrection.objects.exists()
    done = client.post(url, {"action": "void", "reason": "Counted twice"})
    assert done.status_code == 302
    assert WorkCorrection.objects.get().kind == "void"
    page = client.get(f"/park/payroll/{period.pk}/").content.decode()
    assert "Counted twice" in page
    calculate(following)
    slip = following.payslips.get(worker=worker)
    payslip_page = client.get(f"/payslips/{slip.number}/").content.decode()
    assert f"Correction of {period.label}" in payslip_page
    assert "-200.00" in payslip_page


def test_r13_5_a_frozen_session_correction_is_recorded_not_applied(
    frozen, director, park
):
    """Staff correct a closed month's hours: the reason and the figures are in
    the audit trail; the session and the approved payslip stay (the R7 floor
    of a closed month is not recomputed)."""
    period, _following, worker, _record = frozen
    session = worker.sessions.get()
    before = snapshot(period)
    with pytest.raises(ValidationError):
        work_session_correct(
            session=session,
            start=at(period.month, 8),
            end=at(period.month, 13),
            reason="",
            actor=director,
        )
    with pytest.raises(PermissionDenied):
        work_session_correct(
            session=session,
            start=at(period.month, 8),
            end=at(period.month, 13),
            reason="Forgot to clock out",
            actor=worker.user,
        )
    work_session_correct(
        session=session,
        start=at(period.month, 8),
        end=at(period.month, 13),
        reason="Forgot to clock out",
        actor=director,
    )
    session.refresh_from_db()
    assert session.minutes == 240
    event = AuditEvent.objects.get(action="work_session.correction")
    assert event.before["minutes"] == 240 and event.after["minutes"] == 300
    assert event.after["reason"] == "Forgot to clock out"
    assert snapshot(period) == before
    client = Client()
    client.cookies["django_language"] = "en"
    client.force_login(director)
    assert "Forgot to clock out" in client.get("/park/audit/").content.decode()


def test_an_open_session_correction_changes_the_session(park, director, mid_month):
    worker = make_worker(park)
    day = mid_month - timedelta(days=1)
    session = work_session_log(worker=worker, start=at(day, 8), end=at(day, 9))
    work_session_correct(
        session=session,
        start=at(day, 8),
        end=at(day, 10),
        reason="Clocked out late",
        actor=director,
    )
    session.refresh_from_db()
    assert session.minutes == 120
    assert AuditEvent.objects.get(action="work_session.correct").after["reason"] == (
        "Clocked out late"
    )


def test_staff_correct_hours_over_the_api_open_and_closed_months(park, mid_month):
    """POST /api/v1/work-sessions/{id}/correct/: in an approved month nothing
    changes and the correction is kept, with its reason, in the audit trail;
    in an open month the session changes (R13.5). A reason is required.

    Pinned mid-month: the open month needs a finished day behind it."""
    from payroll.periods import period_approve, period_get_or_create
    from tests.factories import calculate, make_user, make_worker

    director = make_user("director", park=park)
    worker = make_worker(park)
    last = last_month()
    closed = work_session_log(worker=worker, start=at(last, 8), end=at(last, 12))
    period = period_get_or_create(park=park, month=last)
    calculate(period)
    period_approve(period=period, actor=director)
    api = APIClient()
    api.force_authenticate(director)
    body = {
        "start": at(last, 8).isoformat(),
        "end": at(last, 14).isoformat(),
        "reason": "Forgot to clock out",
    }
    url = f"/api/v1/work-sessions/{closed.pk}/correct/"
    assert api.post(url, {**body, "reason": ""}, format="json").status_code == 400
    response = api.post(url, body, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["outcome"] == "recorded"
    closed.refresh_from_db()
    assert closed.minutes == 240
    event = AuditEvent.objects.get(action="work_session.correction")
    assert "Forgot to clock out" in str(event.after)

    yesterday = mid_month - timedelta(days=1)
    session = work_session_log(
        worker=worker, start=at(yesterday, 8), end=at(yesterday, 10)
    )
    response = api.post(
        f"/api/v1/work-sessions/{session.pk}/correct/",
        {**body, "start": at(yesterday, 8).isoformat(),
         "end": at(yesterday, 11).isoformat()},
        format="json",
    )  # fmt: skip
    assert response.status_code == 200 and response.json()["outcome"] == "changed"
    session.refresh_from_db()
    assert session.minutes == 180


def test_the_page_records_a_closed_months_hour_correction(frozen, director, park):
    """Staff correct a closed month's hours from a page: the period's "work
    and hours" list links each session to its correction form; saving with a
    reason records the correction (shown on the page) and changes neither the
    session nor the approved payslips (R13.5)."""
    period, _following, worker, _record = frozen
    session = worker.sessions.get()
    before = snapshot(period)
    client = Client()
    client.cookies["django_language"] = "en"
    client.force_login(director)
    listing = client.get(
        f"/park/payroll/{period.pk}/records/?employee_no={worker.employee_no}"
    ).content.decode()
    url = f"/park/sessions/{session.pk}/correct/"
    assert url in listing
    form = client.get(url).content.decode()
    assert 'id="closed-note"' in form and 'name="reason"' in form
    day = f"{session.work_date:%Y-%m-%d}"
    refused = client.post(url, {"day": day, "start": "08:00", "end": "13:00"})
    assert refused.status_code == 200 and refused.context["form"].errors["reason"]
    assert not AuditEvent.objects.filter(action="work_session.correction").exists()
    done = client.post(
        url,
        {"day": day, "start": "08:00", "end": "13:00", "reason": "Forgot to clock out"},
        follow=True,
    )
    page = done.content.decode()
    assert "Forgot to clock out" in page
    assert f"{day} 08:00–12:00" in page and f"{day} 08:00–13:00" in page
    session.refresh_from_db()
    assert session.minutes == 240
    assert snapshot(period) == before
    assert period_export_verify(document=period_export(period=period)).ok


def test_the_page_changes_an_open_months_hours(park, director, mid_month):
    worker = make_worker(park)
    day = mid_month - timedelta(days=1)
    session = work_session_log(worker=worker, start=at(day, 8), end=at(day, 9))
    client = Client()
    client.force_login(make_user("payroll_officer", park=park))
    response = client.post(
        f"/park/sessions/{session.pk}/correct/",
        {"day": f"{day:%Y-%m-%d}", "start": "08:00", "end": "10:30", "reason": "Late"},
    )
    assert response.status_code == 302
    session.refresh_from_db()
    assert session.minutes == 150
    assert AuditEvent.objects.get(action="work_session.correct").after["reason"] == (
        "Late"
    )


def test_only_the_parks_pay_staff_reach_the_hour_correction_page(frozen, park):
    from tests.factories import make_park

    _period, _following, worker, _record = frozen
    url = f"/park/sessions/{worker.sessions.get().pk}/correct/"
    other = Client()
    other.force_login(make_user("director", park=make_park()))
    assert other.get(url).status_code == 404
    own = Client()
    own.force_login(worker.user)
    assert own.get(url).status_code in (403, 404)
    day = f"{worker.sessions.get().work_date:%Y-%m-%d}"
    body = {"day": day, "start": "08:00", "end": "13:00", "reason": "Mine"}
    assert own.post(url, body).status_code in (403, 404)
    assert not AuditEvent.objects.filter(action="work_session.correction").exists()
