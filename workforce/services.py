"""Every write to the workforce: parks, workers, skill levels, work sessions."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.services import audit_record
from workforce.closing import check_open, is_closed
from workforce.identity import IDENTITY_FIELDS
from workforce.models import (
    SESSION_OVERLAP,
    Contract,
    IdentityChange,
    Park,
    PayPolicy,
    SkillLevel,
    SkillPeriod,
    SpecialDeduction,
    StaffAssignment,
    Team,
    Worker,
    WorkSession,
)
from workforce.selectors import user_park_ids, user_roles

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
CORRECTION_REASON = _("Give a reason for the correction.")
CORRECTION_STAFF_ONLY = _("Only the park's director or payroll officer can do this.")
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
    opened_on: date | None = None,
) -> Park:
    park = Park(
        name=name,
        code=code,
        county=county,
        township=township,
        time_zone=time_zone,
        opened_on=opened_on,
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


@transaction.atomic
def special_deduction_set(
    *, worker: Worker, category: str, monthly_amount, valid_from: date, actor=None
) -> SpecialDeduction:
    """R11.2: ``monthly_amount`` of ``category`` applies from the month of
    ``valid_from`` on (0.00 ends the category); the same month's row is
    replaced. Audited."""
    valid_from = valid_from.replace(day=1)
    row = SpecialDeduction.objects.filter(
        worker=worker, category=category, valid_from=valid_from
    ).first()
    before = {"monthly_amount": row.monthly_amount} if row else None
    if row is None:
        row = SpecialDeduction(worker=worker, category=category, valid_from=valid_from)
    row.monthly_amount = monthly_amount
    row.full_clean()
    row.save()
    audit_record(
        actor=actor,
        park=worker.park,
        action="special_deduction.set",
        obj=row,
        before=before,
        after={
            "worker": worker.employee_no,
            "category": category,
            "valid_from": valid_from,
            "monthly_amount": row.monthly_amount,
        },
    )
    return row


@transaction.atomic
def worker_set_identity(*, worker: Worker, actor, **values) -> list[str]:
    """R17.1: set any of the resident ID number, bank, account number and
    account holder (``IDENTITY_FIELDS``); a value left out is kept, an empty
    one clears. Validated by ``Worker.clean``; the audit records which fields
    changed, never a value. Returns the names of the fields that changed."""
    unknown = set(values) - set(IDENTITY_FIELDS)
    if unknown:
        raise TypeError(f"not identity fields: {sorted(unknown)}")
    given, worker = worker, Worker.objects.select_for_update().get(pk=worker.pk)
    before = {name: getattr(worker, name) for name in IDENTITY_FIELDS}
    for name, value in values.items():
        setattr(worker, name, value or "")
    worker.full_clean()
    changed = [n for n in IDENTITY_FIELDS if getattr(worker, n) != before[n]]
    for name in IDENTITY_FIELDS:  # the caller's object shows what is on record
        setattr(given, name, getattr(worker, name))
    if changed:
        worker.save(update_fields=changed)
        audit_record(
            actor=actor,
            park=worker.park,
            action="worker.identity",
            obj=worker,
            after={"changed": changed},
        )
    return changed


def personal_data_reencrypt(*, batch: int = 500) -> int:
    """Rewrite the identity and bank data of every worker who has any under
    the newest key; each batch in its own transaction. Returns the count."""
    done, last = 0, 0
    while True:
        with transaction.atomic():
            workers = list(
                Worker.objects.select_for_update()
                .filter(pk__gt=last)
                .order_by("pk")
                .only("pk", *IDENTITY_FIELDS)[:batch]
            )
            for worker in workers:
                values = {name: getattr(worker, name) for name in IDENTITY_FIELDS}
                if any(values.values()):
                    # The field encrypts on write with the newest key.
                    Worker.objects.filter(pk=worker.pk).update(**values)
                    done += 1
        if len(workers) < batch:
            break
        last = workers[-1].pk
    return done + _reencrypt_identity_changes(batch=batch)


def _reencrypt_identity_changes(*, batch: int) -> int:
    """The same for the entries workers made themselves (R17.1)."""
    done, last = 0, 0
    while True:
        with transaction.atomic():
            changes = list(
                IdentityChange.objects.select_for_update()
                .filter(pk__gt=last)
                .order_by("pk")
                .only("pk", *IDENTITY_FIELDS)[:batch]
            )
            for change in changes:
                values = {name: getattr(change, name) for name in IDENTITY_FIELDS}
                if any(values.values()):
                    IdentityChange.objects.filter(pk=change.pk).update(**values)
                    done += 1
        if len(changes) < batch:
            return done
        last = changes[-1].pk


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


def work_session_check_overlap(session: WorkSession) -> None:
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
    work_session_check_overlap(session)
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
    work_session_check_overlap(session)
    session.save()
    return session


def _session_figures(session: WorkSession) -> dict:
    return {
        "worker": session.worker.employee_no,
        "start": session.start.isoformat() if session.start else None,
        "end": session.end.isoformat() if session.end else None,
        "minutes": session.minutes,
    }


@transaction.atomic
def work_session_correct(
    *, session: WorkSession, start: datetime, end: datetime, reason: str, actor
) -> WorkSession:
    """A staff correction of a worker's hours, with its reason.

    In an open month the session changes (audited: before → after). In a
    closed month (R13.5) nothing changes: the correction is kept in the audit
    trail only, and the closed month's pay, its R7 floor included, stays as
    approved.
    """
    worker = _lock_worker(session.worker)
    staff = actor is None or getattr(actor, "is_superuser", False)
    if not staff:
        staff = bool(user_roles(actor) & {"director", "payroll_officer"}) and (
            worker.park_id in user_park_ids(actor)
        )
    if not staff:
        raise PermissionDenied(CORRECTION_STAFF_ONLY)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": CORRECTION_REASON})
    before = _session_figures(session)
    if not is_closed(worker.park, session.work_date, lock=True):
        session = work_session_update(session=session, start=start, end=end)
        audit_record(
            actor=actor,
            park=worker.park,
            action="work_session.correct",
            obj=session,
            before=before,
            after={**_session_figures(session), "reason": reason},
        )
        return session
    proposed = WorkSession(worker=worker, start=start, end=end)
    proposed.derive(worker.park.time_zone)
    proposed.full_clean(validate_unique=False, validate_constraints=False)
    audit_record(
        actor=actor,
        park=worker.park,
        action="work_session.correction",
        obj=session,
        before=before,
        after={**_session_figures(proposed), "reason": reason},
    )
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
    work_session_check_overlap(session)
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
