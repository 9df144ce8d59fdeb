"""Every write to the workforce: parks, workers, skill levels, work sessions."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.services import audit_record
from workforce.closing import check_open
from workforce.models import (
    SESSION_OVERLAP,
    Contract,
    Park,
    PayPolicy,
    SkillLevel,
    SkillPeriod,
    StaffAssignment,
    Team,
    Worker,
    WorkSession,
)

SKILL_NOT_AFTER = _(
    "A new skill level must start after the current one, which started on %(day)s."
)
SKILL_BEFORE_HIRE = _("A skill level cannot start before the hire date.")
ALREADY_CLOCKED_IN = _("You are already clocked in since %(start)s.")
NOT_CLOCKED_IN = _("You are not clocked in.")
CLOCK_IN_CANCELLED = _(
    "Clock-in cancelled: you clocked out less than a minute after clocking in, "
    "so no session was kept."
)
SESSION_NOT_EDITABLE = _("Only your own sessions of the last 7 days can be changed.")
WORKER_LEFT = _("%(worker)s has left the park.")
LOGIN_TAKEN = _(
    "The login name %(login)s is taken by another account, so no login was "
    "created: ask the administrator to rename or link that account."
)

ROLES = ("worker", "trainer", "director", "payroll_officer", "county_official")


def park_create(
    *,
    name: str,
    code: str,
    county: str,
    township: str,
    time_zone: str = "Asia/Shanghai",
) -> Park:
    park = Park(
        name=name, code=code, county=county, township=township, time_zone=time_zone
    )
    park.full_clean()
    with transaction.atomic():
        park.save()
        # The default policy of R7.1/R10, in force from the start.
        PayPolicy.objects.create(park=park, effective_from=date(2000, 1, 1))
    return park


def team_create(*, park: Park, name: str) -> Team:
    team = Team(park=park, name=name)
    team.full_clean()
    team.save()
    return team


@transaction.atomic
def worker_create(
    *,
    park: Park,
    employee_no: str,
    name: str,
    gender: str,
    birth_year: int,
    hire_date: date,
    contract: str,
    team: Team | None = None,
    skill_level: str = SkillLevel.TRAINEE,
    user=None,
    insured: bool | None = None,
    **fields,
) -> Worker:
    """A worker and their first skill level; without an explicit choice,
    ``insured`` follows the contract (R10.1)."""
    worker = Worker(
        park=park,
        team=team,
        employee_no=employee_no,
        name=name,
        gender=gender,
        birth_year=birth_year,
        hire_date=hire_date,
        contract=contract,
        user=user,
        insured=insured_by_contract(contract) if insured is None else insured,
        **fields,
    )
    worker.full_clean()
    worker.save()
    SkillPeriod.objects.create(worker=worker, level=skill_level, valid_from=hire_date)
    return worker


def insured_by_contract(contract: str) -> bool:
    """R10.1: full-time workers are insured unless someone chose otherwise."""
    return contract == Contract.FULL_TIME


@transaction.atomic
def worker_set_contract(
    *, worker: Worker, contract: str, insured: bool | None = None
) -> Worker:
    """Change a worker's contract; ``insured`` follows it unless given (R10.1)."""
    worker.contract = contract
    worker.insured = insured_by_contract(contract) if insured is None else insured
    worker.full_clean()
    worker.save(update_fields=["contract", "insured"])
    return worker


@transaction.atomic
def worker_set_skill_level(
    *, worker: Worker, level: str, valid_from: date
) -> SkillPeriod:
    """Close the current skill interval and open a new one at ``valid_from``."""
    Worker.objects.select_for_update().get(pk=worker.pk)
    if valid_from < worker.hire_date:
        raise ValidationError({"valid_from": SKILL_BEFORE_HIRE})
    current = (
        worker.skills.filter(valid_to__isnull=True).order_by("-valid_from").first()
    )
    if current is not None:
        if valid_from <= current.valid_from:
            raise ValidationError(
                {"valid_from": SKILL_NOT_AFTER % {"day": current.valid_from}}
            )
        current.valid_to = valid_from
        current.save(update_fields=["valid_to"])
    period = SkillPeriod(worker=worker, level=level, valid_from=valid_from)
    period.full_clean()
    period.save()
    return period


@transaction.atomic
def worker_leave(*, worker: Worker, leave_date: date) -> Worker:
    worker.leave_date = leave_date
    worker.full_clean()
    worker.save(update_fields=["leave_date"])
    return worker


def _local_date(moment: datetime, tz_name: str) -> date:
    return moment.astimezone(ZoneInfo(tz_name)).date()


def staff_assign(*, user, park: Park) -> StaffAssignment:
    """Let a staff login see ``park`` (director, payroll officer, trainer,
    county official)."""
    assignment, _created = StaffAssignment.objects.get_or_create(user=user, park=park)
    return assignment


def _check_overlap(session: WorkSession) -> None:
    """R6.1: sessions of one worker never overlap (an open one runs until now)."""
    end = session.end or timezone.now()
    others = WorkSession.objects.filter(
        worker_id=session.worker_id,
        start__lt=end,
        start__gt=session.start - timedelta(hours=16),
    ).exclude(pk=session.pk)
    for other in others:
        other_end = other.end or timezone.now()
        if other_end > session.start:
            raise ValidationError(
                {
                    "start": SESSION_OVERLAP
                    % {
                        "start": timezone.localtime(other.start).strftime(
                            "%Y-%m-%d %H:%M"
                        ),
                        "end": timezone.localtime(other_end).strftime("%Y-%m-%d %H:%M"),
                    }
                }
            )


def _lock_worker(worker: Worker) -> Worker:
    # Serialise session writes per worker so two overlapping inserts cannot race.
    return (
        Worker.objects.select_for_update(of=("self",))
        .select_related("park")
        .get(pk=worker.pk)
    )


@transaction.atomic
def work_session_log(*, worker: Worker, start: datetime, end: datetime) -> WorkSession:
    """Record a finished session (R6.1 validation)."""
    worker = _lock_worker(worker)
    session = WorkSession(worker=worker, start=start, end=end)
    session.derive(worker.park.time_zone)
    session.full_clean()
    _check_month_open(session)
    _check_overlap(session)
    session.save()
    return session


def _check_month_open(session: WorkSession) -> None:
    """R13.5: no session dated in a closed month is added, changed or deleted.
    Months close in order, so the day it starts on decides."""
    check_open(
        park=session.worker.park, day=session.work_date, field="start", lock=True
    )


@transaction.atomic
def work_session_update(
    *, session: WorkSession, start: datetime, end: datetime | None
) -> WorkSession:
    worker = _lock_worker(session.worker)
    _check_month_open(session)  # as it was
    session.start, session.end = start, end
    session.derive(worker.park.time_zone)
    session.full_clean()
    _check_month_open(session)  # as it becomes
    _check_overlap(session)
    session.save()
    return session


@transaction.atomic
def work_session_delete(*, session: WorkSession) -> None:
    _lock_worker(session.worker)
    _check_month_open(session)
    session.delete()


@transaction.atomic
def work_session_clock_in(
    *, worker: Worker, now: datetime | None = None
) -> WorkSession:
    worker = _lock_worker(worker)
    now = now or timezone.now()
    if (
        worker.leave_date
        and _local_date(now, worker.park.time_zone) > worker.leave_date
    ):
        raise ValidationError(WORKER_LEFT % {"worker": worker.name})
    open_session = worker.sessions.filter(end__isnull=True).first()
    if open_session:
        raise ValidationError(
            ALREADY_CLOCKED_IN
            % {"start": timezone.localtime(open_session.start).strftime("%H:%M")}
        )
    session = WorkSession(worker=worker, start=now)
    session.derive(worker.park.time_zone)
    session.full_clean()
    _check_month_open(session)
    _check_overlap(session)
    session.save()
    return session


@transaction.atomic
def work_session_clock_out(
    *, worker: Worker, now: datetime | None = None
) -> WorkSession | None:
    worker = _lock_worker(worker)
    session = worker.sessions.filter(end__isnull=True).first()
    if session is None:
        raise ValidationError(NOT_CLOCKED_IN)
    _check_month_open(session)
    now = now or timezone.now()
    if now - session.start < timedelta(minutes=1):
        # Clocking out straight away undoes a clock-in made by mistake.
        session.delete()
        return None
    # A forgotten clock-out is capped at the R6.1 maximum rather than refused.
    session.end = min(now, session.start + timedelta(hours=16))
    session.derive(worker.park.time_zone)
    session.full_clean()
    session.save()
    return session


@transaction.atomic
def worker_set_password(*, worker: Worker, password: str, actor) -> None:
    """A director sets a worker's password (workers often have no e-mail).

    Creates the login when the worker has none; the password itself is never
    recorded, only that it was set, by whom and when.
    """
    user = worker.user
    if user is None or user.pk is None:
        username = worker.employee_no.lower()
        User = get_user_model()
        if User.objects.filter(username__iexact=username).exists():
            raise ValidationError(LOGIN_TAKEN % {"login": username})
        user = User.objects.create(username=username)
        user.groups.add(Group.objects.get_or_create(name="worker")[0])
        worker.user = user
        worker.save(update_fields=["user"])
    user.set_password(password)
    user.save(update_fields=["password"])
    audit_record(
        actor=actor,
        park=worker.park,
        action="worker.password_set",
        obj=worker,
        after={"login": user.username},
    )
