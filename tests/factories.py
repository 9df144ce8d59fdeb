"""Test data built through the real services."""

import itertools
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.contrib.auth.models import Group, User
from django.test import TestCase

from payroll import periods
from payroll.models import Client, TaskType
from payroll.services import (
    client_create,
    project_create,
    rate_card_create,
    task_type_create,
    work_record_create,
)
from workforce.models import Contract, DeductionCategory, Park
from workforce.services import (
    park_create,
    special_deduction_set,
    staff_assign,
    team_create,
    work_session_log,
    worker_create,
)

_seq = itertools.count(1)


def make_park(code: str | None = None) -> Park:
    n = next(_seq)
    code = code or f"park{n}"
    return park_create(
        name=f"Test Park {n}", code=code, county="Test County", township="Test Township"
    )


def make_user(
    role: str | None = None, username: str | None = None, park: Park | None = None
) -> User:
    """A login in ``role``; staff roles are assigned to ``park`` when given."""
    user = User.objects.create_user(
        username=username or f"user{next(_seq)}", password="test-pass-123456"
    )
    if role:
        # get_or_create: transactional tests flush the groups the migration made.
        user.groups.add(Group.objects.get_or_create(name=role)[0])
    if park is not None:
        staff_assign(user=user, park=park)
    return user


def make_worker(
    park: Park,
    *,
    contract: str = Contract.FULL_TIME,
    hire_date: date = date(2025, 1, 1),
    skill_level: str = "junior",
    user: User | None = None,
    with_login: bool = False,
    **fields,
):
    n = next(_seq)
    if with_login and user is None:
        user = make_user("worker")
    team = fields.pop("team", None) or team_create(park=park, name=f"Team {n}")
    # R11.2: a monthly amount from the hire month on, as child education.
    special = fields.pop("special_deduction_monthly", None)
    worker = worker_create(
        park=park,
        team=team,
        employee_no=f"E{n:06d}",
        name=fields.pop("name", f"测试员{n}"),
        gender=fields.pop("gender", "female"),
        birth_year=fields.pop("birth_year", 1990),
        hire_date=hire_date,
        contract=contract,
        skill_level=skill_level,
        user=user,
        **fields,
    )
    if special:
        special_deduction_set(
            worker=worker,
            category=DeductionCategory.CHILD_EDUCATION,
            monthly_amount=Decimal(special),
            valid_from=hire_date,
        )
    return worker


def make_catalogue(park: Park, *, rate: Decimal = Decimal("0.5000")):
    """A client, a project with default tiers, a task type, one card per level."""
    n = next(_seq)
    client = Client.objects.first() or client_create(code=f"c{n}", name=f"Client {n}")
    task_type = TaskType.objects.filter(code="box").first() or task_type_create(
        code="box", name="2D box", unit="box"
    )
    project = project_create(
        client=client, park=park, code=f"p{n}", name=f"Project {n}"
    )
    for level in ("trainee", "junior", "senior"):
        rate_card_create(
            project=project,
            task_type=task_type,
            skill_level=level,
            rate=rate,
            effective_from=date(2020, 1, 1),
        )
    return project, task_type


_ext = itertools.count(1)
SH = ZoneInfo("Asia/Shanghai")


def add_record(worker, project, task_type, day, units, accuracy="97.00"):
    """A work record through the service (accuracy None: not yet reviewed)."""
    return work_record_create(
        worker=worker,
        project=project,
        task_type=task_type,
        work_date=day,
        units=units,
        accuracy=None if accuracy is None else Decimal(accuracy),
        source="test",
        external_id=f"t{next(_ext)}",
    )


def add_hours(worker, day, hours, start_hour=8):
    """A session of ``hours`` from ``start_hour`` (park time) on ``day``."""
    start = datetime(day.year, day.month, day.day, start_hour, tzinfo=SH)
    return work_session_log(
        worker=worker, start=start, end=start + timedelta(hours=hours)
    )


def calculate(period, actor=None):
    """Start a run and let its on-commit tasks (calculation, PDFs) run here."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        run = periods.payroll_run_start(period=period, actor=actor)
    run.refresh_from_db()
    return run
