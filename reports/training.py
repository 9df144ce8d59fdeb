"""Training progress and qualification (R15).

Reads (plain dataclasses for the pages, the API and the PDF report):

- ``training_reports(user=...)``: per park, every trainee's weekly accuracy and
  units per hour with the thresholds, days in training, qualification date or
  how close they are, and per cohort (hire month) the averaged curves, median
  days to qualify and share qualified. Scoped like ``worker_list``: park staff
  see their parks' trainees, a worker only themself.
- ``trainee_progress``, ``cohort_progress``, ``trainees_close``: the same,
  narrowed.
- ``training_report(park=...)``: unscoped, for tasks and commands.

Write: ``training_qualify`` evaluates R15.1 for a park and promotes (R15.2).

How R15.1 is read here:

- A *working day* is a day with work records or session minutes. The window is
  the trainee's last 10 working days up to and including the day evaluated;
  fewer than 10 working days never qualify.
- *Reviewed units* and the units-weighted *accuracy* (2 decimals, half up, as
  R4.4) count records with an accuracy; *units per hour* is every unit of the
  window over the hours of its work sessions (R6.2).
- *The same period* is the window's calendar span (first to last working day),
  or the week for a weekly figure. The *reference* of a task type is the
  median, over qualified workers (junior or senior on that day) of the park, of
  their units per hour on the days in that span on which they did only that
  task type (sessions carry no task type, so a day split between task types
  cannot be attributed), counting a worker with at least
  ``REFERENCE_MIN_MINUTES`` such minutes.
- *On the same task types*: a trainee's units of each task type are converted
  to the hours a qualified median worker would need for them; relative speed =
  those hours ÷ the hours worked. The speed condition is relative speed ≥ 60 %,
  which for one task type is exactly units per hour ≥ 60 % of the median. The
  threshold drawn on a units-per-hour chart is 60 % of the median weighted by
  the trainee's mix of task types. A task type with no reference in the span is
  left out of those hours (stricter); with no reference at all the speed
  condition is not applied and ``reference_missing`` says so.
- The qualification date is not a field: it is the day before the trainee's
  first skill period above ``trainee`` (R15.2: junior from the next day).
"""

from __future__ import annotations

import bisect
import logging
import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db.models import F, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.services import audit_record
from payroll.calculation import month_bounds
from payroll.models import LOCKED_STATUSES, PayPeriod, WorkRecord
from workforce.models import Park, SkillLevel, SkillPeriod, Worker, WorkSession
from workforce.selectors import worker_list
from workforce.services import worker_set_skill_level

logger = logging.getLogger(__name__)

# Policy defaults of R15.1 (docs/pay-rules.md); a park's own values would
# replace these once parks keep training policy.
WINDOW_WORKING_DAYS = 10
MIN_REVIEWED_UNITS = 500
MIN_ACCURACY = Decimal("95.00")
SPEED_SHARE = Decimal("0.60")

# How the progress report reads the data (not pay policy).
# A qualified worker counts in a reference with this many minutes on the task
# type in the span, so that one short day (a new junior's first) does not.
REFERENCE_MIN_MINUTES = 240
WEEKS_SHOWN = 12  # training weeks per trainee in curves
LOOKBACK_DAYS = 92  # trainees hired this long before the report date
DATA_DAYS = 400  # the oldest day of work loaded
# "Close": not qualified yet, but every condition near its threshold.
CLOSE_UNITS_SHARE = Decimal("0.80")
CLOSE_ACCURACY_GAP = Decimal("1.00")
CLOSE_SPEED_SHARE = Decimal("0.90")

QUALIFIED_LEVELS = {SkillLevel.JUNIOR, SkillLevel.SENIOR}
CENT = Decimal("0.01")
HUNDRED = Decimal(100)

TRAINING = "training"
QUALIFIED = "qualified"
LEFT = "left"
# For pages: a trainee's status in the page's language.
STATUS_LABELS = {
    TRAINING: _("in training"),
    QUALIFIED: _("qualified"),
    LEFT: _("left during training"),
}


def _round(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


# --- data --------------------------------------------------------------------


@dataclass(frozen=True)
class Thresholds:
    window_working_days: int = WINDOW_WORKING_DAYS
    min_reviewed_units: int = MIN_REVIEWED_UNITS
    min_accuracy: Decimal = MIN_ACCURACY
    speed_share: Decimal = SPEED_SHARE

    @property
    def speed_percent(self) -> Decimal:
        return _round(self.speed_share * HUNDRED)


THRESHOLDS = Thresholds()


@dataclass(frozen=True)
class Figures:
    """Work over some days: the numbers R15.1 looks at."""

    start: date
    end: date
    working_days: int
    units: int
    reviewed_units: int
    hours: Decimal
    accuracy: Decimal | None  # units-weighted, reviewed records only
    units_per_hour: Decimal | None
    reference_units_per_hour: Decimal | None  # qualified median, for this mix
    threshold_units_per_hour: Decimal | None  # SPEED_SHARE of the reference
    relative_speed: Decimal | None  # percent of the reference
    reference_missing: bool  # no qualified worker to compare with


@dataclass(frozen=True)
class WeekFigures(Figures):
    week: int  # training week, 1 = the 7 days from the hire date
    in_training: bool  # the week starts on or before the qualification day


@dataclass(frozen=True)
class WindowCheck(Figures):
    """R15.1 over the last working days up to ``end``."""

    units_met: bool
    accuracy_met: bool
    speed_met: bool
    qualifies: bool
    close: bool
    progress: Decimal  # share of the weakest condition reached, at most 1


@dataclass(frozen=True)
class TraineeProgress:
    worker_id: int
    park_id: int
    employee_no: str
    name: str
    team: str
    cohort: str  # hire month, "YYYY-MM"
    hire_date: date
    leave_date: date | None
    status: str  # "training" | "qualified" | "left"
    qualified_on: date | None
    days_in_training: int  # calendar days, the hire day counted
    working_days: int  # in training
    weeks: tuple[WeekFigures, ...]
    latest: WindowCheck | None  # the current window, while in training

    @property
    def close(self) -> bool:
        return self.latest is not None and self.latest.close

    @property
    def status_label(self) -> str:
        return str(STATUS_LABELS[self.status])


@dataclass(frozen=True)
class CohortWeek:
    week: int
    trainees: int  # with figures that week
    accuracy: Decimal | None  # mean over those trainees
    units_per_hour: Decimal | None
    relative_speed: Decimal | None  # mean percent of the qualified reference


@dataclass(frozen=True)
class CohortProgress:
    cohort: str
    trainees: int
    qualified: int
    in_training: int
    left: int
    share_qualified: Decimal  # percent
    median_days_to_qualify: Decimal | None
    weeks: tuple[CohortWeek, ...]


@dataclass(frozen=True)
class TrainingReport:
    park_id: int
    park_code: str
    park_name: str
    as_of: date
    cohort: str | None
    thresholds: Thresholds
    trainees: tuple[TraineeProgress, ...]
    cohorts: tuple[CohortProgress, ...]

    @property
    def close(self) -> list[TraineeProgress]:
        """Trainees near qualification, closest first."""
        near = [t for t in self.trainees if t.close]
        return sorted(near, key=lambda t: (-t.latest.progress, t.employee_no))

    @property
    def in_training(self) -> list[TraineeProgress]:
        return [t for t in self.trainees if t.status == TRAINING]


# --- loading -----------------------------------------------------------------


@dataclass
class _Day:
    minutes: int = 0
    units: dict[int, int] = field(default_factory=dict)  # task type → units
    reviewed: int = 0
    weighted: Decimal = Decimal(0)  # Σ units × accuracy of reviewed records


class _ParkWork:
    """A park's days of work, skill history and qualified reference, loaded in
    three grouped queries."""

    def __init__(self, park_id: int, start: date, end: date):
        self.start, self.end = start, end
        self.days: dict[int, dict[date, _Day]] = defaultdict(dict)
        records = (
            WorkRecord.objects.filter(
                worker__park_id=park_id, work_date__gte=start, work_date__lte=end
            )
            .values("worker_id", "work_date", "task_type_id")
            .annotate(
                total=Sum("units"),
                reviewed=Sum("units", filter=Q(accuracy__isnull=False)),
                weighted=Sum(
                    F("units") * F("accuracy"), filter=Q(accuracy__isnull=False)
                ),
            )
            .order_by()
        )
        for row in records:
            day = self._day(row["worker_id"], row["work_date"])
            day.units[row["task_type_id"]] = int(row["total"])
            day.reviewed += int(row["reviewed"] or 0)
            if row["weighted"] is not None:
                day.weighted += _round(Decimal(str(row["weighted"])))
        sessions = (
            WorkSession.objects.filter(
                worker__park_id=park_id,
                work_date__gte=start,
                work_date__lte=end,
                end__isnull=False,
            )
            .values("worker_id", "work_date")
            .annotate(minutes=Sum("minutes"))
            .order_by()
        )
        for row in sessions:
            self._day(row["worker_id"], row["work_date"]).minutes += int(row["minutes"])
        self.skills: dict[int, list[tuple[date, date | None, str]]] = defaultdict(list)
        for worker_id, valid_from, valid_to, level in (
            SkillPeriod.objects.filter(worker__park_id=park_id)
            .order_by("worker_id", "valid_from")
            .values_list("worker_id", "valid_from", "valid_to", "level")
        ):
            self.skills[worker_id].append((valid_from, valid_to, level))
        self.worked: dict[int, list[date]] = {
            worker_id: sorted(d for d, day in days.items() if day.minutes or day.units)
            for worker_id, days in self.days.items()
        }
        # Qualified workers' single-task days: the material of the reference.
        self._reference_days: dict[date, list[tuple[int, int, int, int]]] = defaultdict(
            list
        )
        for worker_id, days in self.days.items():
            for d, day in days.items():
                if (
                    len(day.units) == 1
                    and day.minutes
                    and self.level_on(worker_id, d) in QUALIFIED_LEVELS
                ):
                    [(task_type, units)] = day.units.items()
                    self._reference_days[d].append(
                        (worker_id, task_type, units, day.minutes)
                    )
        self._references: dict[tuple[date, date], dict[int, Decimal]] = {}

    def _day(self, worker_id: int, day: date) -> _Day:
        days = self.days[worker_id]
        if day not in days:
            days[day] = _Day()
        return days[day]

    def level_on(self, worker_id: int, day: date) -> str | None:
        for valid_from, valid_to, level in self.skills.get(worker_id, ()):
            if valid_from <= day and (valid_to is None or day < valid_to):
                return level
        return None

    def reference(self, start: date, end: date) -> dict[int, Decimal]:
        """Median units per hour of qualified workers per task type, [start, end]."""
        key = (start, end)
        if key not in self._references:
            totals: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0])
            day = start
            while day <= end:
                for worker_id, task_type, units, minutes in self._reference_days.get(
                    day, ()
                ):
                    total = totals[(worker_id, task_type)]
                    total[0] += units
                    total[1] += minutes
                day += timedelta(days=1)
            rates: dict[int, list[Decimal]] = defaultdict(list)
            for (_worker, task_type), (units, minutes) in totals.items():
                if minutes >= REFERENCE_MIN_MINUTES:
                    rates[task_type].append(Decimal(units * 60) / Decimal(minutes))
            self._references[key] = {
                task_type: statistics.median(values)
                for task_type, values in rates.items()
            }
        return self._references[key]

    def figures(self, worker_id: int, days: Iterable[date], start: date, end: date):
        """The R15.1 numbers of ``days`` of a worker; the reference over
        [start, end]."""
        units_by_type: dict[int, int] = defaultdict(int)
        reviewed = minutes = working = 0
        weighted = Decimal(0)
        own = self.days.get(worker_id, {})
        for d in days:
            day = own.get(d)
            if day is None or not (day.minutes or day.units):
                continue
            working += 1
            minutes += day.minutes
            reviewed += day.reviewed
            weighted += day.weighted
            for task_type, units in day.units.items():
                units_by_type[task_type] += units
        units = sum(units_by_type.values())
        accuracy = _round(weighted / reviewed) if reviewed else None
        per_hour = _round(Decimal(units * 60) / minutes) if minutes else None
        reference = self.reference(start, end) if units else {}
        known = {t: u for t, u in units_by_type.items() if t in reference}
        expected_minutes = sum(
            (Decimal(u * 60) / reference[t] for t, u in known.items() if reference[t]),
            Decimal(0),
        )
        mix_reference = relative = threshold = None
        if expected_minutes:
            mix_reference = Decimal(sum(known.values()) * 60) / expected_minutes
            threshold = _round(SPEED_SHARE * mix_reference)
            mix_reference = _round(mix_reference)
            if minutes:
                relative = _round(expected_minutes / minutes * HUNDRED)
        return dict(
            start=start,
            end=end,
            working_days=working,
            units=units,
            reviewed_units=reviewed,
            hours=_round(Decimal(minutes) / 60),
            accuracy=accuracy,
            units_per_hour=per_hour,
            reference_units_per_hour=mix_reference,
            threshold_units_per_hour=threshold,
            relative_speed=relative,
            reference_missing=bool(units) and not known,
        )

    def window(self, worker_id: int, day: date, first: date) -> WindowCheck:
        """R15.1 for ``worker_id`` on ``day``: the last working days since
        ``first`` (the hire date) up to ``day``."""
        worked = self.worked.get(worker_id, [])
        upto = bisect.bisect_right(worked, day)
        since = bisect.bisect_left(worked, first)
        chosen = worked[max(since, upto - WINDOW_WORKING_DAYS) : upto]
        start = chosen[0] if chosen else day
        numbers = self.figures(worker_id, chosen, start, day)
        return _check(numbers)


def _check(numbers: dict) -> WindowCheck:
    t = THRESHOLDS
    accuracy, relative = numbers["accuracy"], numbers["relative_speed"]
    units_met = numbers["reviewed_units"] >= t.min_reviewed_units
    accuracy_met = accuracy is not None and accuracy >= t.min_accuracy
    if numbers["reference_missing"]:
        speed_met = numbers["hours"] > 0
    else:
        speed_met = relative is not None and relative >= t.speed_percent
    days_met = numbers["working_days"] >= t.window_working_days
    qualifies = days_met and units_met and accuracy_met and speed_met
    near = (
        numbers["reviewed_units"] >= CLOSE_UNITS_SHARE * t.min_reviewed_units
        and accuracy is not None
        and accuracy >= t.min_accuracy - CLOSE_ACCURACY_GAP
        and (
            speed_met
            or (
                relative is not None and relative >= CLOSE_SPEED_SHARE * t.speed_percent
            )
        )
    )
    shares = [
        Decimal(numbers["reviewed_units"]) / t.min_reviewed_units,
        (accuracy or Decimal(0)) / t.min_accuracy,
        Decimal(1)
        if numbers["reference_missing"]
        else (relative or 0) / t.speed_percent,
        Decimal(numbers["working_days"]) / t.window_working_days,
    ]
    return WindowCheck(
        **numbers,
        units_met=units_met,
        accuracy_met=accuracy_met,
        speed_met=speed_met,
        qualifies=qualifies,
        close=near and not qualifies,
        # Rounded down: 99.8 % of the way is not "100 %".
        progress=min(Decimal(1), *shares).quantize(CENT, rounding=ROUND_DOWN),
    )


# --- progress ----------------------------------------------------------------


def _trainees(workers: Iterable[Worker], skills) -> list[tuple[Worker, date | None]]:
    """Workers who started as trainees, with their qualification day (R15.2)."""
    out = []
    for worker in workers:
        history = skills.get(worker.id, [])
        if not history or history[0][2] != SkillLevel.TRAINEE:
            continue
        qualified_on = None
        for valid_from, _valid_to, level in history[1:]:
            if level in QUALIFIED_LEVELS:
                qualified_on = valid_from - timedelta(days=1)
                break
        out.append((worker, qualified_on))
    return out


def _progress(
    work: _ParkWork, worker: Worker, qualified_on: date | None, as_of: date
) -> TraineeProgress:
    last = min(as_of, worker.leave_date) if worker.leave_date else as_of
    if qualified_on is not None and qualified_on <= as_of:
        status, end_of_training = QUALIFIED, qualified_on
    else:
        qualified_on = None
        left = worker.leave_date is not None and worker.leave_date <= as_of
        status, end_of_training = (LEFT if left else TRAINING), last
    weeks = []
    for index in range(WEEKS_SHOWN):
        start = worker.hire_date + timedelta(days=7 * index)
        if start > last:
            break
        end = min(start + timedelta(days=6), last)
        days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
        weeks.append(
            WeekFigures(
                **work.figures(worker.id, days, start, end),
                week=index + 1,
                in_training=qualified_on is None or start <= qualified_on,
            )
        )
    worked = work.worked.get(worker.id, [])
    in_training_days = bisect.bisect_right(
        worked, end_of_training
    ) - bisect.bisect_left(worked, worker.hire_date)
    latest = None
    if status == TRAINING:
        latest = work.window(worker.id, last, worker.hire_date)
    return TraineeProgress(
        worker_id=worker.id,
        park_id=worker.park_id,
        employee_no=worker.employee_no,
        name=worker.name,
        team=worker.team.name if worker.team_id else "",
        cohort=f"{worker.hire_date:%Y-%m}",
        hire_date=worker.hire_date,
        leave_date=worker.leave_date,
        status=status,
        qualified_on=qualified_on,
        days_in_training=max(0, (end_of_training - worker.hire_date).days + 1),
        working_days=max(0, in_training_days),
        weeks=tuple(weeks),
        latest=latest,
    )


def _mean(values: list[Decimal]) -> Decimal | None:
    return _round(sum(values) / len(values)) if values else None


def _cohorts(trainees: list[TraineeProgress]) -> list[CohortProgress]:
    by_cohort: dict[str, list[TraineeProgress]] = defaultdict(list)
    for trainee in trainees:
        by_cohort[trainee.cohort].append(trainee)
    cohorts = []
    for cohort in sorted(by_cohort):
        members = by_cohort[cohort]
        qualified = [t for t in members if t.status == QUALIFIED]
        weeks = []
        for index in range(max((len(t.weeks) for t in members), default=0)):
            rows = [
                t.weeks[index]
                for t in members
                if len(t.weeks) > index and t.weeks[index].working_days
            ]
            accuracy = [w.accuracy for w in rows if w.accuracy is not None]
            per_hour = [w.units_per_hour for w in rows if w.units_per_hour is not None]
            relative = [w.relative_speed for w in rows if w.relative_speed is not None]
            weeks.append(
                CohortWeek(
                    week=index + 1,
                    trainees=len(rows),
                    accuracy=_mean(accuracy),
                    units_per_hour=_mean(per_hour),
                    relative_speed=_mean(relative),
                )
            )
        days = [t.days_in_training for t in qualified]
        cohorts.append(
            CohortProgress(
                cohort=cohort,
                trainees=len(members),
                qualified=len(qualified),
                in_training=sum(1 for t in members if t.status == TRAINING),
                left=sum(1 for t in members if t.status == LEFT),
                share_qualified=_round(Decimal(len(qualified) * 100) / len(members)),
                median_days_to_qualify=(
                    _round(Decimal(statistics.median(days))) if days else None
                ),
                weeks=tuple(weeks),
            )
        )
    return cohorts


def _park_today(park: Park) -> date:
    return timezone.localdate(timezone=ZoneInfo(park.time_zone))


def _report(
    park: Park, workers: list[Worker], *, as_of: date, cohort: str | None
) -> TrainingReport:
    candidates = [w for w in workers if w.hire_date <= as_of]
    if cohort:
        candidates = [w for w in candidates if f"{w.hire_date:%Y-%m}" == cohort]
    skills: dict[int, list] = defaultdict(list)
    for worker_id, valid_from, valid_to, level in (
        SkillPeriod.objects.filter(worker__in=[w.id for w in candidates])
        .order_by("worker_id", "valid_from")
        .values_list("worker_id", "valid_from", "valid_to", "level")
    ):
        skills[worker_id].append((valid_from, valid_to, level))
    recent = as_of - timedelta(days=LOOKBACK_DAYS)
    chosen = []
    for worker, qualified_on in _trainees(candidates, skills):
        still_training = (qualified_on is None or qualified_on > as_of) and (
            worker.leave_date is None or worker.leave_date > as_of
        )
        if cohort or worker.hire_date > recent or still_training:
            chosen.append((worker, qualified_on))
    trainees = []
    if chosen:
        start = max(
            as_of - timedelta(days=DATA_DAYS), min(w.hire_date for w, _q in chosen)
        )
        work = _ParkWork(park.id, start, as_of)
        trainees = [_progress(work, w, q, as_of) for w, q in chosen]
    trainees.sort(key=lambda t: (t.cohort, t.employee_no))
    return TrainingReport(
        park_id=park.id,
        park_code=park.code,
        park_name=park.name,
        as_of=as_of,
        cohort=cohort,
        thresholds=THRESHOLDS,
        trainees=tuple(trainees),
        cohorts=tuple(_cohorts(trainees)),
    )


def training_report(
    *, park: Park, as_of: date | None = None, cohort: str | None = None
) -> TrainingReport:
    """The park's training report, unscoped (tasks, commands)."""
    workers = list(Worker.objects.filter(park=park).select_related("team"))
    return _report(park, workers, as_of=as_of or _park_today(park), cohort=cohort)


def training_reports(
    *,
    user,
    park_id: int | None = None,
    cohort: str | None = None,
    as_of: date | None = None,
) -> list[TrainingReport]:
    """One report per park the user may see trainees of (R15.3).

    Trainers, directors and payroll officers see their parks' trainees; a worker
    sees only their own progress (the reference medians are aggregates).
    """
    visible = worker_list(user=user)
    if park_id is not None:
        visible = visible.filter(park_id=park_id)
    by_park: dict[int, list[Worker]] = defaultdict(list)
    parks = {}
    for worker in visible:
        by_park[worker.park_id].append(worker)
        parks[worker.park_id] = worker.park
    return [
        _report(
            parks[pk],
            by_park[pk],
            as_of=as_of or _park_today(parks[pk]),
            cohort=cohort,
        )
        for pk in sorted(by_park, key=lambda pk: parks[pk].code)
    ]


def trainee_progress(
    *, user, worker_id: int, as_of: date | None = None
) -> TraineeProgress:
    """One trainee's progress; another person's answers Worker.DoesNotExist."""
    worker = worker_list(user=user).get(pk=worker_id)
    report = _report(
        worker.park,
        [worker],
        as_of=as_of or _park_today(worker.park),
        cohort=f"{worker.hire_date:%Y-%m}",
    )
    if not report.trainees:
        raise Worker.DoesNotExist("not a trainee")
    return report.trainees[0]


def cohort_progress(
    *,
    user,
    park_id: int | None = None,
    cohort: str | None = None,
    as_of: date | None = None,
) -> list[CohortProgress]:
    return [
        c
        for report in training_reports(
            user=user, park_id=park_id, cohort=cohort, as_of=as_of
        )
        for c in report.cohorts
    ]


def trainees_close(
    *, user, park_id: int | None = None, as_of: date | None = None
) -> list[TraineeProgress]:
    """Trainees near qualification, closest first (R15.3 "who is close")."""
    return [
        t
        for report in training_reports(user=user, park_id=park_id, as_of=as_of)
        for t in report.close
    ]


# --- qualification (R15.1, R15.2) ---------------------------------------------


@dataclass(frozen=True)
class Qualification:
    worker_id: int
    employee_no: str
    qualified_on: date
    junior_from: date
    window: WindowCheck


def _first_open_day(park: Park) -> date | None:
    """The first day after the latest approved or paid period: a promotion
    must not reprice work already paid (R13.4)."""
    locked = (
        PayPeriod.objects.filter(park=park, status__in=LOCKED_STATUSES)
        .order_by("-month")
        .values_list("month", flat=True)
        .first()
    )
    return month_bounds(locked)[1] if locked else None


def training_qualify(
    *,
    park: Park,
    day: date,
    since: date | None = None,
    actor=None,
    dry_run: bool = False,
) -> list[Qualification]:
    """R15.1 for every current trainee of ``park`` on each working day from
    ``since`` (default: ``day``) to ``day``: the first day a trainee qualifies
    makes them junior from the next day (R15.2).

    Idempotent: only workers whose current skill level is ``trainee`` are
    looked at, so a worker promoted already (by an earlier run, a trainer or the
    demo seeder) is never promoted twice.
    """
    since = min(since or day, day)
    open_from = _first_open_day(park)
    current = SkillPeriod.objects.filter(
        worker__park=park, valid_to__isnull=True, level=SkillLevel.TRAINEE
    ).values_list("worker_id", flat=True)
    workers = list(
        Worker.objects.filter(id__in=current, hire_date__lte=day).filter(
            Q(leave_date__isnull=True) | Q(leave_date__gte=since)
        )
    )
    if not workers:
        return []
    start = max(day - timedelta(days=DATA_DAYS), min(w.hire_date for w in workers))
    work = _ParkWork(park.id, start, day)
    done = []
    for worker in sorted(workers, key=lambda w: w.employee_no):
        last = min(day, worker.leave_date) if worker.leave_date else day
        worked = work.worked.get(worker.id, [])
        for candidate in worked[
            bisect.bisect_left(worked, max(since, worker.hire_date)) :
        ]:
            if candidate > last:
                break
            junior_from = candidate + timedelta(days=1)
            if open_from and junior_from < open_from:
                continue
            if work.level_on(worker.id, candidate) != SkillLevel.TRAINEE:
                continue
            check = work.window(worker.id, candidate, worker.hire_date)
            if not check.qualifies:
                continue
            if not dry_run:
                try:
                    worker_set_skill_level(
                        worker=worker, level=SkillLevel.JUNIOR, valid_from=junior_from
                    )
                except ValidationError as exc:
                    logger.info(
                        "worker %s not promoted: %s",
                        worker.employee_no,
                        exc.messages[0],
                    )
                    break
                audit_record(
                    actor=actor,
                    park=park,
                    action="worker.qualified",
                    obj=worker,
                    after={
                        "qualified_on": candidate,
                        "junior_from": junior_from,
                        "reviewed_units": check.reviewed_units,
                        "accuracy": check.accuracy,
                        "relative_speed": check.relative_speed,
                    },
                )
            done.append(
                Qualification(
                    worker_id=worker.id,
                    employee_no=worker.employee_no,
                    qualified_on=candidate,
                    junior_from=junior_from,
                    window=check,
                )
            )
            break
    return done
