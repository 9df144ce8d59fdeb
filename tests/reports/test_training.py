"""Training progress and qualification (R15): weekly figures, thresholds,
closeness, cohorts, the qualification service, scoping, and the PDF report."""

import io
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.test import Client, override_settings
from pypdf import PdfReader

from payroll.models import PayPeriod
from payroll.services import work_record_create
from reports import tasks, training, training_pdf
from tests.factories import make_catalogue, make_park, make_user, make_worker
from workforce.selectors import skill_level_on
from workforce.services import work_session_log

SH = ZoneInfo("Asia/Shanghai")
HIRED = date(2026, 3, 2)  # a Monday
TENTH = date(2026, 3, 12)  # the 10th working day (Monday to Saturday)
AS_OF = date(2026, 3, 14)
pytestmark = pytest.mark.django_db

_ext = iter(range(1, 10**9))


def working_days(first: date, count: int) -> list[date]:
    days, day = [], first
    while len(days) < count:
        if day.weekday() != 6:  # Sundays off
            days.append(day)
        day += timedelta(days=1)
    return days


def work(worker, project, task_type, day, records, minutes=60):
    """A session of ``minutes`` and records of (units, accuracy or None)."""
    start = datetime(day.year, day.month, day.day, 8, tzinfo=SH)
    work_session_log(worker=worker, start=start, end=start + timedelta(minutes=minutes))
    for units, accuracy in records:
        work_record_create(
            worker=worker,
            project=project,
            task_type=task_type,
            work_date=day,
            units=units,
            accuracy=None if accuracy is None else Decimal(accuracy),
            source="test",
            external_id=f"tr{next(_ext)}",
        )


@pytest.fixture
def setting():
    """Three qualified workers at 80, 100 and 120 units/h (median 100) and three
    trainees hired on 2 March: one who qualifies on the 10th working day, one
    who is close (57 units/h), one far off (accuracy 93.00)."""
    park = make_park()
    project, task_type = make_catalogue(park)
    for pace in (80, 100, 120):
        junior = make_worker(park, hire_date=date(2025, 1, 1), skill_level="junior")
        for day in working_days(HIRED, 12):
            work(junior, project, task_type, day, [(pace, "97.00")])
    able = make_worker(park, name="马小花", hire_date=HIRED, skill_level="trainee")
    close = make_worker(park, name="李春燕", hire_date=HIRED, skill_level="trainee")
    far = make_worker(park, name="王建国", hire_date=HIRED, skill_level="trainee")
    for index, day in enumerate(working_days(HIRED, 12)):
        # Day 1 is not yet reviewed (counts for speed only); then 96.00 weighted.
        reviewed = [(45, "98.00"), (15, "90.00")]
        work(able, project, task_type, day, [(60, None)] if index == 0 else reviewed)
        work(close, project, task_type, day, [(57, "96.00")])
        work(far, project, task_type, day, [(70, "93.00")])
    return park, project, task_type, able, close, far


def by_name(report, name):
    return next(t for t in report.trainees if t.name == name)


def test_weekly_figures_and_thresholds(setting):
    """R15.3: a week's accuracy is units-weighted over reviewed records, units
    per hour is all units over session hours, and the threshold is 60 % of the
    qualified workers' median units per hour in the same week."""
    park, *_rest, _able, _close, _far = setting
    report = training.training_report(park=park, as_of=AS_OF)
    progress = by_name(report, "马小花")
    first, second = progress.weeks[:2]
    assert (first.start, first.end, first.week) == (HIRED, date(2026, 3, 8), 1)
    assert first.working_days == 6 and first.units == 360
    assert first.reviewed_units == 300  # day 1 is pending review
    assert first.accuracy == Decimal("96.00")
    assert first.hours == Decimal("6.00") and first.units_per_hour == Decimal("60.00")
    assert first.reference_units_per_hour == Decimal("100.00")
    assert first.threshold_units_per_hour == Decimal("60.00")
    assert first.relative_speed == Decimal("60.00")
    assert second.start == date(2026, 3, 9) and second.end == AS_OF  # partial week
    assert second.working_days == 6


def test_qualification_on_the_first_qualifying_day(setting):
    """R15.1/R15.2: qualifies on the 10th working day (540 reviewed units,
    96.00 %, exactly 60 % of the median speed) and is junior from the next day;
    a second run promotes nobody."""
    park, *_rest, able, close, _far = setting
    assert training.training_qualify(park=park, day=TENTH - timedelta(days=1)) == []
    done = training.training_qualify(park=park, day=AS_OF, since=HIRED)
    assert [(q.worker_id, q.qualified_on, q.junior_from) for q in done] == [
        (able.id, TENTH, TENTH + timedelta(days=1))
    ]
    check = done[0].window
    assert (check.working_days, check.reviewed_units) == (10, 540)
    assert check.accuracy == Decimal("96.00") and check.relative_speed == Decimal(
        "60.00"
    )
    assert skill_level_on(worker=able, day=TENTH) == "trainee"
    assert skill_level_on(worker=able, day=TENTH + timedelta(days=1)) == "junior"
    assert skill_level_on(worker=close, day=AS_OF) == "trainee"
    assert training.training_qualify(park=park, day=AS_OF, since=HIRED) == []


def test_no_promotion_into_a_locked_period(setting):
    """A promotion never reprices work of an approved period (R13.4)."""
    park, *_rest = setting
    PayPeriod.objects.create(park=park, month=date(2026, 3, 1), status="approved")
    assert training.training_qualify(park=park, day=AS_OF, since=HIRED) == []


def test_dry_run_changes_nothing(setting):
    """A dry run reports who would qualify and promotes nobody."""
    park, *_rest, able, _close, _far = setting
    done = training.training_qualify(park=park, day=AS_OF, since=HIRED, dry_run=True)
    assert [q.worker_id for q in done] == [able.id]
    assert skill_level_on(worker=able, day=AS_OF) == "trainee"


def test_status_closeness_and_cohort(setting):
    """After qualifying the trainee shows the date and days to qualify; the
    57 units/h trainee is close, the 93 % one is not; the cohort counts."""
    park, *_rest = setting
    training.training_qualify(park=park, day=AS_OF, since=HIRED)
    report = training.training_report(park=park, as_of=AS_OF)
    qualified = by_name(report, "马小花")
    assert qualified.status == "qualified" and qualified.qualified_on == TENTH
    assert qualified.days_in_training == 11 and qualified.working_days == 10
    assert qualified.latest is None
    near = by_name(report, "李春燕")
    assert near.status == "training" and near.close
    assert near.latest.units_met and near.latest.accuracy_met
    assert not near.latest.speed_met and near.latest.relative_speed == Decimal("57.00")
    assert near.latest.progress == Decimal("0.95")
    off = by_name(report, "王建国")
    assert not off.close and not off.latest.accuracy_met
    assert [t.name for t in report.close] == ["李春燕"]
    [cohort] = report.cohorts
    assert (cohort.cohort, cohort.trainees, cohort.qualified, cohort.in_training) == (
        "2026-03",
        3,
        1,
        2,
    )
    assert cohort.share_qualified == Decimal("33.33")
    assert cohort.median_days_to_qualify == Decimal("11.00")
    assert cohort.weeks[0].trainees == 3
    assert cohort.weeks[0].accuracy == Decimal("95.00")  # (96 + 96 + 93) / 3
    assert cohort.weeks[0].relative_speed == Decimal("62.33")  # (60 + 57 + 70) / 3


def test_scoped_by_user(setting):
    """Park staff see the park's trainees; a worker only themself; another
    park's trainer and a county official nobody."""
    park, *_rest, able, close, _far = setting
    trainer = make_user("trainer", park=park)
    [report] = training.training_reports(user=trainer, as_of=AS_OF)
    assert len(report.trainees) == 3
    login = make_user("worker")
    close.user = login
    close.save(update_fields=["user"])
    [own] = training.training_reports(user=login, as_of=AS_OF)
    assert [t.worker_id for t in own.trainees] == [close.id]
    assert own.trainees[0].weeks[0].threshold_units_per_hour == Decimal("60.00")
    assert training.trainee_progress(user=login, worker_id=close.id, as_of=AS_OF)
    with pytest.raises(type(able).DoesNotExist):
        training.trainee_progress(user=login, worker_id=able.id, as_of=AS_OF)
    assert (
        training.training_reports(
            user=make_user("trainer", park=make_park()), as_of=AS_OF
        )
        == []
    )
    assert training.training_reports(user=make_user("county_official")) == []
    assert [t.name for t in training.trainees_close(user=trainer, as_of=AS_OF)] == [
        "李春燕"
    ]
    assert [c.cohort for c in training.cohort_progress(user=trainer, as_of=AS_OF)] == [
        "2026-03"
    ]


def test_chart_data_equals_weekly_figures(setting):
    """The report's charts draw exactly the selector's weekly figures, with the
    thresholds, for trainees and cohorts."""
    park, *_rest = setting
    report = training.training_report(park=park, as_of=AS_OF)
    for trainee in report.trainees:
        accuracy, speed = training_pdf.trainee_charts(trainee)
        weeks = trainee.weeks
        assert accuracy.categories == ("W1", "W2")
        assert accuracy.values("准确率 Accuracy %") == tuple(w.accuracy for w in weeks)
        assert accuracy.series[1].values == (Decimal("95.00"),) * 2
        assert speed.values("每小时件数 Units/h") == tuple(
            w.units_per_hour for w in weeks
        )
        assert speed.series[1].values == tuple(
            w.threshold_units_per_hour for w in weeks
        )
    [cohort] = report.cohorts
    accuracy, speed = training_pdf.cohort_charts(cohort)
    assert accuracy.series[0].values == tuple(w.accuracy for w in cohort.weeks)
    assert speed.series[0].values == tuple(w.relative_speed for w in cohort.weeks)
    assert speed.series[1].values == (Decimal("60.00"),) * len(cohort.weeks)


def test_report_pdf_text(setting):
    """The PDF names every trainee in Chinese, lists who is close and shows the
    cohort; a trainee's curves are drawn for those in training."""
    park, *_rest = setting
    report = training.training_report(park=park, as_of=AS_OF)
    reader = PdfReader(io.BytesIO(training_pdf.render_training_report(report)))
    text = "\n".join(page.extract_text() for page in reader.pages)
    for name in ("马小花", "李春燕", "王建国"):
        assert name in text
    assert "Close to qualifying" in text and "2026-03" in text
    assert "李春燕 · 每小时件数 Units per hour" in text
    assert len(reader.pages) <= 4


def test_monthly_beat_job_stores_a_report_per_park(setting):
    """Beat, on the 1st: every park's report as of last month's end, stored."""
    park, *_rest = setting
    other = make_park()
    names = tasks.training_monthly_reports.delay().get()
    assert len(names) == 2
    for name, p in zip(
        sorted(names), sorted([park, other], key=lambda p: p.code), strict=True
    ):
        assert name.startswith(f"training-reports/{p.code}/")
        with default_storage.open(name) as stream:
            assert stream.read(5) == b"%PDF-"


def test_beat_schedule_has_the_training_jobs(settings):
    """The monthly report and the daily qualification are scheduled."""
    tasks_by_entry = {
        entry["task"]: entry["schedule"]
        for entry in settings.CELERY_BEAT_SCHEDULE.values()
    }
    assert tasks_by_entry["training.monthly_reports"].day_of_month == {1}
    assert "training.qualify" in tasks_by_entry


@override_settings(TIME_ZONE="Asia/Shanghai")
def test_daily_qualification_task(setting, monkeypatch):
    """The daily beat job evaluates yesterday in each park."""
    park, *_rest = setting
    calls = []

    def fake(*, park, day):
        calls.append((park.code, day))
        return []

    monkeypatch.setattr(training, "training_qualify", fake)
    assert tasks.training_qualify.delay().get() == 0
    assert calls and calls[0][0] == park.code


def test_training_report_command(setting, tmp_path):
    """``manage.py training_report --park CODE --cohort YYYY-MM`` writes a PDF
    and prints where."""
    park, *_rest = setting
    out = io.StringIO()
    call_command(
        "training_report",
        park=park.code,
        cohort="2026-03",
        date="2026-03-14",
        out=str(tmp_path),
        stdout=out,
    )
    target = tmp_path / f"{park.code}-training-2026-03-14-2026-03.pdf"
    assert target.exists() and str(target) in out.getvalue()
    # Not promoted yet (no qualification run): all three still in training.
    assert "3 trainees, 3 in training, 1 close" in out.getvalue()


def test_web_charts_speak_the_page_language(setting):
    """For pages the charts carry translatable labels (no fixed Chinese) and the
    same figures; the SVG is inline."""
    park, *_rest = setting
    report = training.training_report(park=park, as_of=AS_OF)
    trainee = by_name(report, "李春燕")
    accuracy, speed = training_pdf.trainee_charts(trainee, web=True)
    assert accuracy.series[0].label == "Accuracy %"
    assert speed.series[0].values == tuple(w.units_per_hour for w in trainee.weeks)
    svg = speed.svg()
    assert svg.startswith("<svg ") and "Units per hour" in svg
    assert trainee.status_label == "in training"


def test_the_trainer_sees_accuracy_and_speed_of_every_trainee(setting):
    """Not only of those close to qualifying: the far-off trainee's accuracy
    (93.00) and speed are in the trainees table too.

    Pinned at the fixture's AS_OF: its trainees worked in March 2026."""
    park, *_rest, _able, _close, far = setting
    trainer = make_user("trainer", park=park)
    client = Client()
    client.force_login(trainer)
    with time_machine.travel(datetime(2026, 3, 14, 12, tzinfo=SH), tick=False):
        html = client.get("/park/training/").content.decode()
    table = html.split('id="trainees"')[1].split("</table>")[0]
    row = next(r for r in table.split("<tr>") if far.name in r)
    assert "93.00" in row
    close_table = html.split('id="close"')[1].split("</table>")[0]
    assert far.name not in close_table
