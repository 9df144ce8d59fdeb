"""Approved pay stays approved (R13.2, R13.5) and payslips say what was
carried (R12), on the real database through the real services."""

import io
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone, translation
from django.utils.html import escape
from pypdf import PdfReader

from payroll import periods
from payroll.calculation import month_bounds
from payroll.models import PayPeriod, WorkRecord
from payroll.services import work_record_delete
from payroll.templatetags.parkpay import CARRIED_FORWARD_SI_TAX
from tests.factories import (
    add_record,
    calculate,
    make_catalogue,
    make_user,
    make_worker,
)
from workforce.closing import MONTH_CLOSED
from workforce.services import work_session_log, work_session_update

SH = ZoneInfo("Asia/Shanghai")
pytestmark = pytest.mark.django_db


def pdf_text(slip) -> str:
    slip.refresh_from_db()
    with slip.pdf.open("rb") as handle:
        return PdfReader(io.BytesIO(handle.read())).pages[0].extract_text()


def last_month() -> date:
    return (timezone.localdate().replace(day=1) - timedelta(days=1)).replace(day=1)


def at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=SH)


@pytest.fixture
def director(park):
    return make_user("director", park=park)


@pytest.fixture
def approved(park, director):
    """Last month, calculated with one worker's work and hours, approved."""
    worker = make_worker(park, with_login=True)
    project, task_type = make_catalogue(park)
    month = last_month()
    record = add_record(worker, project, task_type, month, 100)
    session = work_session_log(worker=worker, start=at(month, 8), end=at(month, 12))
    period = periods.period_get_or_create(park=park, month=month)
    calculate(period)
    periods.period_approve(period=period, actor=director)
    return period, worker, record, session


def test_r13_5_no_session_is_added_or_changed_in_an_approved_month(approved):
    period, worker, _record, session = approved
    closed = MONTH_CLOSED % {"month": period.label}
    day = period.month + timedelta(days=1)
    with pytest.raises(ValidationError) as refused:
        work_session_log(worker=worker, start=at(day, 8), end=at(day, 9))
    assert refused.value.message_dict == {"start": [closed]}
    with pytest.raises(ValidationError):
        work_session_update(
            session=session, start=at(period.month, 8), end=at(period.month, 13)
        )
    session.refresh_from_db()
    assert session.minutes == 240


def test_r13_5_no_adjustment_or_deletion_in_an_approved_month(approved, director):
    period, worker, record, _session = approved
    with pytest.raises(ValidationError):
        periods.adjustment_add(
            period=period,
            worker=worker,
            kind="bonus",
            amount=Decimal("10"),
            reason="late",
            actor=director,
        )
    with pytest.raises(ValidationError):
        work_record_delete(record=record, actor=director)
    assert WorkRecord.objects.filter(pk=record.pk).exists()


def test_r13_5_the_session_form_says_the_month_is_closed_and_whom_to_ask(
    approved,
):
    period, worker, _record, _session = approved
    client = Client()
    client.force_login(worker.user)
    day = period.month + timedelta(days=2)
    response = client.post(
        "/me/hours/", {"day": day.isoformat(), "start": "08:00", "end": "10:00"}
    )
    assert response.status_code == 200
    page = response.content.decode()
    with translation.override("zh-hans"):  # workers read Chinese by default
        closed = str(MONTH_CLOSED) % {"month": period.label}
    assert escape(closed) in page and "园区主任" in closed
    assert worker.sessions.count() == 1


def test_r13_3_new_work_for_an_approved_month_is_late_work_and_nothing_changes(
    park, approved
):
    """R13.3/R13.5: a record arriving for a closed month is new (late) work;
    the approved payslip and its records stay as they were."""
    period, worker, record, _session = approved
    slip = period.payslips.get(worker=worker)
    project, task_type = record.project, record.task_type
    add_record(worker, project, task_type, period.month + timedelta(days=3), 40)
    next_period = periods.period_get_or_create(
        park=park, month=month_bounds(period.month)[1]
    )
    calculate(next_period)
    late = next_period.payslips.get(worker=worker).lines.get(kind="late_piece")
    assert late.quantity == 40 and late.ref_period == period.label
    assert period.payslips.get(worker=worker).net == slip.net


def test_r13_2_a_month_in_progress_is_never_approved(park, director):
    make_worker(park)
    this_month = timezone.localdate().replace(day=1)
    period = periods.period_get_or_create(park=park, month=this_month)
    calculate(period)
    with pytest.raises(ValidationError) as refused:
        periods.period_approve(period=period, actor=director)
    assert str(month_bounds(this_month)[1]) in refused.value.messages[0]
    period.refresh_from_db()
    assert period.status == "calculated"


def test_r13_2_the_page_asks_before_approving(park, director):
    make_worker(park)
    period = periods.period_get_or_create(park=park, month=last_month())
    calculate(period)
    client = Client()
    client.force_login(director)
    url = f"/park/payroll/{period.pk}/approve/"
    asked = client.post(url)
    assert asked.status_code == 200 and b'name="confirm"' in asked.content
    period.refresh_from_db()
    assert period.status == "calculated"
    done = client.post(url, {"confirm": "yes"})
    assert done.status_code == 302
    assert PayPeriod.objects.get(pk=period.pk).status == "approved"


def test_r12_the_payslip_says_in_words_what_is_carried_forward(park, director):
    """Social insurance larger than the pay: the page says how much will be
    taken from the next pay, and why."""
    worker = make_worker(
        park, with_login=True, insured=True, si_base=Decimal("4600.00")
    )
    project, task_type = make_catalogue(park, rate=Decimal("0.0100"))
    month = last_month()
    add_record(worker, project, task_type, month, 100)
    period = periods.period_get_or_create(park=park, month=month)
    calculate(period)
    slip = period.payslips.get(worker=worker)
    assert slip.carried_forward > 0
    client = Client()
    client.force_login(worker.user)
    page = client.get(f"/payslips/{slip.number}/").content.decode()
    amount = f"{slip.carried_forward:,.2f}"
    with translation.override("zh-hans"):
        said = str(CARRIED_FORWARD_SI_TAX) % {"amount": amount}
    assert said == f"社会保险和个人所得税超过本月工资；{amount} 元将从下月工资中扣除。"
    assert said in page
    pdf = pdf_text(slip)
    assert f"{amount} 元将从下月工资中扣除" in pdf
    assert f"{amount} will be taken from your next pay" in pdf


def test_r13_3_an_import_into_an_approved_month_is_new_late_work_only():
    """An import row dated in a closed month is a new record (late work,
    R13.3); the same id with other figures is refused, never an edit (R13.5)."""
    from tests.payroll.test_imports import World, problems

    world = World()
    month = last_month()
    header = "employee_no,project,task_type,work_date,units,accuracy,external_id\n"
    first = world.run(header + f"E1001,drive-2d,box,{month},10,98.00,A-1\n")
    assert first.ok, problems(first)
    period = periods.period_get_or_create(park=world.park, month=month)
    calculate(period)
    periods.period_approve(period=period, actor=None)
    late = world.run(header + f"E1001,drive-2d,box,{month},7,98.00,A-2\n")
    assert late.ok and late.created == 1
    again = world.run(header + f"E1001,drive-2d,box,{month},99,98.00,A-1\n")
    assert (again.created, again.updated) == (0, 0) and again.warnings
    assert WorkRecord.objects.get(external_id="A-1").units == 10


def test_r13_5_the_admin_cannot_change_or_delete_rows_of_an_approved_month(
    approved,
):
    """The admin goes through the same rule: a closed month's session and
    record are read-only there (403 on change and delete)."""
    from django.contrib.auth.models import User

    period, _worker, record, session = approved
    client = Client()
    client.force_login(User.objects.create_superuser("root", password="x-123456"))
    base = "/admin/workforce/worksession"
    assert client.get(f"{base}/{session.pk}/delete/").status_code == 403
    response = client.post(
        f"{base}/{session.pk}/change/",
        {
            "worker": session.worker_id,
            "start_0": f"{period.month}",
            "start_1": "08:00",
            "end_0": f"{period.month}",
            "end_1": "09:00",
        },
    )
    assert response.status_code == 403
    assert client.get(f"/admin/payroll/workrecord/{record.pk}/delete/").status_code == (
        403
    )
    session.refresh_from_db()
    assert session.minutes == 240 and WorkRecord.objects.filter(pk=record.pk).exists()


def test_r10_1_the_admin_lets_insured_follow_the_contract(park):
    """A new worker in the admin without a choice of insurance is insured
    when full-time (R10.1)."""
    from django.contrib.auth.models import User

    from workforce.models import Worker

    client = Client()
    client.force_login(User.objects.create_superuser("root", password="x-123456"))
    response = client.post(
        "/admin/workforce/worker/add/",
        {
            "park": park.pk,
            "employee_no": "A0001",
            "name": "测试",
            "gender": "female",
            "birth_year": 1990,
            "hire_date": "2025-01-01",
            "contract": "full_time",
            "si_base": "0.00",
            "insured": "",
            "skills-TOTAL_FORMS": "0",
            "skills-INITIAL_FORMS": "0",
            "skills-MIN_NUM_FORMS": "0",
            "skills-MAX_NUM_FORMS": "1000",
            "special_deductions-TOTAL_FORMS": "0",
            "special_deductions-INITIAL_FORMS": "0",
            "special_deductions-MIN_NUM_FORMS": "0",
            "special_deductions-MAX_NUM_FORMS": "1000",
        },
    )
    assert response.status_code == 302, response.content[:3000]
    assert Worker.objects.get(employee_no="A0001").insured is True


def test_r4_3_page_api_and_pdf_agree_on_the_pending_units_of_a_line(park):
    """One standard line holds reviewed and pending units; the page, the API
    and the PDF each show how many of its units are pending review."""
    from rest_framework.test import APIClient

    worker = make_worker(park, with_login=True, contract="part_time")
    project, task_type = make_catalogue(park)
    month = last_month()
    add_record(worker, project, task_type, month, 30, "97.00")
    add_record(worker, project, task_type, month + timedelta(days=1), 12, None)
    period = periods.period_get_or_create(park=park, month=month)
    calculate(period)
    slip = period.payslips.get(worker=worker)
    (line,) = slip.lines.filter(kind="piece")
    assert (line.tier, line.quantity, line.pending_units) == ("standard", 42, 12)
    client = Client()
    client.force_login(worker.user)
    page = client.get(f"/payslips/{slip.number}/").content.decode()
    assert "其中 12 件待审核" in page
    api = APIClient()
    api.force_authenticate(worker.user)
    lines = api.get(f"/api/v1/payslips/{slip.pk}/").json()["lines"]
    assert [(ln["tier"], ln["pending_units"]) for ln in lines] == [("standard", 12)]
    assert "其中待审核 12 pending review" in pdf_text(slip)


def test_r13_5_the_api_refuses_a_session_in_an_approved_month(approved):
    """POST /api/v1/work-sessions/ on a day of an approved month: a 400
    naming the closed month, and nothing saved."""
    from rest_framework.test import APIClient

    period, worker, _record, _session = approved
    client = APIClient()
    client.force_authenticate(worker.user)
    day = period.month + timedelta(days=2)
    response = client.post(
        "/api/v1/work-sessions/",
        {"start": at(day, 8).isoformat(), "end": at(day, 9).isoformat()},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert period.label in str(response.json())
    assert worker.sessions.count() == 1


@pytest.mark.parametrize("work_date", ["0001-01-01", "1900-01-01", "9999-12-31"])
def test_an_import_dated_outside_the_parks_life_is_an_error_of_its_row(park, work_date):
    """Dates from before the park opened or after today are the row's error
    (naming the field), never a record that breaks the next run."""
    from payroll.imports import import_work

    worker = make_worker(park)
    project, task_type = make_catalogue(park)
    body = (
        "employee_no,project,task_type,work_date,units,accuracy,external_id\n"
        f"{worker.employee_no},{project.code},{task_type.code},{work_date},"
        "10,97.00,x-1\n"
    )
    upload = io.BytesIO(body.encode())
    upload.name = "work.csv"
    report = import_work(file=upload, fmt="csv", project=project)
    assert not report.ok
    assert any(error.field == "work_date" for error in report.errors), report
    assert not WorkRecord.objects.filter(external_id="x-1").exists()
