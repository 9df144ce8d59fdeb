"""The demo park: a deterministic plan of people, hours and work, then one write.

``build_plan`` is pure (no database): the same seed and the same "today" give
the same plan, to the minute and the unit. ``write_plan`` stores a plan in one
transaction: reference data and people through the real services, the bulk of
the data (sessions and work records) with ``bulk_create``.

Everything here is fictional: the park, the clients and every name are built
from small lists; no real person or company is meant.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from payroll.models import Client, TaskType, WorkRecord
from payroll.services import (
    client_create,
    project_create,
    rate_card_create,
    task_type_create,
)
from workforce.identity import check_digit
from workforce.models import (
    Contract,
    DeductionCategory,
    Gender,
    Park,
    SkillLevel,
    WorkSession,
)
from workforce.services import (
    park_create,
    special_deduction_set,
    staff_assign,
    team_create,
    worker_create,
    worker_set_skill_level,
)

USERS_EXIST = _(
    "Users %(names)s exist already; the demo creates them. Delete them or "
    "start from an empty database."
)

TZ_NAME = "Asia/Shanghai"
# R17.1: obviously fake identity and bank data. 990000 is no region code of
# GB/T 2260, so no demo ID number can be a real person's; the check digit is
# valid so the exports (R17.2) work. The bank does not exist either.
DEMO_REGION = "990000"
DEMO_BANK = "示例银行 (demo)"
DEMO_ACCOUNT_PREFIX = "62990000"
SOURCE = "demo"
BATCH = 2000

PARK = {
    "name": "示范数字产业园 Demo Digital Park",
    "code": "demo",
    "county": "示例县",
    "township": "示例镇",
    "time_zone": TZ_NAME,
}

# Shares of the workforce (R16 figures a county official looks at).
WOMEN = 0.70
CONSENT = 0.95
MONITORED = 0.15
RETURNERS = 0.25
PART_TIME = 0.15
TRAINING = 0.10
NEW_HIRES_PER_MONTH = 0.05
LEAVERS_PER_MONTH = 0.015
# Of the workers who consented; everything but Han counts as a smaller group.
ETHNICITIES = (
    ("汉族", 0.40),
    ("东乡族", 0.24),
    ("回族", 0.22),
    ("保安族", 0.07),
    ("撒拉族", 0.05),
    ("土族", 0.02),
)

SURNAMES = "马王李张杨韩妥汪何赵刘陈周罗冶沈苏丁孔鲁"
GIVEN_FIRST = {
    Gender.FEMALE: "小秀玉春海金彩桂晓丽",
    Gender.MALE: "小建国志永海文德晓伟",
}
GIVEN_SECOND = {
    Gender.FEMALE: "花兰梅英霞芳燕娟萍琴红玲艳莲凤",
    Gender.MALE: "军明强伟勇福平华龙成林忠刚斌",
}


@dataclass(frozen=True)
class TaskSpec:
    code: str
    name: str
    unit: str
    project: str
    # An experienced junior's pace; with the junior rate it makes ~24 yuan/h,
    # so ~6 h a day, 6 days a week gives the ~4,000 yuan a month of DESIGN.md.
    units_per_hour: int
    rates: tuple[str, str, str]  # trainee, junior, senior; yuan per unit


TASKS = {
    t.code: t
    for t in (
        TaskSpec(
            "box", "2D 拉框 2D box", "box", "drive-2d", 200, ("0.10", "0.12", "0.14")
        ),
        TaskSpec(
            "lane",
            "车道线 Lane lines",
            "frame",
            "drive-2d",
            30,
            ("0.65", "0.80", "0.95"),
        ),
        TaskSpec(
            "cuboid",
            "3D 立体框 3D cuboid",
            "cuboid",
            "drive-3d",
            40,
            ("0.50", "0.60", "0.70"),
        ),
        TaskSpec(
            "certificate",
            "健康证核验 Health certificate check",
            "certificate",
            "health-cert",
            120,
            ("0.16", "0.20", "0.24"),
        ),
        TaskSpec(
            "ticket",
            "客服工单 Customer ticket",
            "ticket",
            "cloud-cs",
            12,
            ("1.60", "2.00", "2.40"),
        ),
    )
}
# The client raised the box price from the 16th of a month (a new card, R3.1).
RATE_CHANGE_TASK = "box"
RATE_CHANGE_RATES = ("0.11", "0.13", "0.15")
LEVELS = (SkillLevel.TRAINEE, SkillLevel.JUNIOR, SkillLevel.SENIOR)

CLIENTS = (
    ("demo-autodrive", "示例智驾科技 Demo AutoDrive"),
    ("demo-delivery", "示例外卖平台 Demo Delivery"),
    ("demo-cloud", "示例云服务 Demo Cloud"),
)
PROJECTS = (
    ("drive-2d", "道路图像标注 Road images 2D", "demo-autodrive"),
    ("drive-3d", "点云标注 Point clouds 3D", "demo-autodrive"),
    ("health-cert", "健康证审核 Health certificates", "demo-delivery"),
    ("cloud-cs", "云客服 Cloud customer service", "demo-cloud"),
)


@dataclass(frozen=True)
class TeamSpec:
    key: str
    name: str
    task: str
    side_task: str | None  # done on some days, for part of the day
    share: float


TEAMS = (
    TeamSpec("2d-1", "标注一组 2D Annotation 1", "box", "lane", 0.16),
    TeamSpec("2d-2", "标注二组 2D Annotation 2", "box", "lane", 0.16),
    TeamSpec("2d-3", "标注三组 2D Annotation 3", "box", "lane", 0.16),
    TeamSpec("3d", "点云组 3D Point Cloud", "cuboid", "box", 0.14),
    TeamSpec("cert", "健康证审核组 Health Certificates", "certificate", None, 0.14),
    TeamSpec("cs-day", "云客服日班 Cloud CS Day Shift", "ticket", None, 0.14),
    TeamSpec("cs-evening", "云客服晚班 Cloud CS Evening Shift", "ticket", None, 0.10),
)
TEAM_BY_KEY = {t.key: t for t in TEAMS}

# Working blocks (start minute after midnight, minutes) around the school day.
PROFILES = {
    "school": ((8 * 60 + 30, 190), (14 * 60, 190)),
    "early": ((7 * 60 + 45, 215), (12 * 60 + 45, 165)),
    "cs_day": ((9 * 60, 190), (13 * 60 + 30, 190)),
    "cs_evening": ((15 * 60 + 30, 190), (19 * 60, 180)),
    "part_morning": ((8 * 60 + 45, 240),),
    "part_afternoon": ((14 * 60, 240),),
    "part_evening": ((18 * 60, 230),),
}
ABSENCE = 0.04  # a sick child, a wedding, the harvest
SHORT_DAY = 0.05  # leaves after the first block
PENDING_REVIEW = 0.08  # of the last week's records
PENDING_DAYS = 7

# R15.1, as the demo's trainers apply it: over the last 10 working days.
QUALIFY_DAYS = 10
QUALIFY_UNITS = 500
QUALIFY_ACCURACY = 95.0
QUALIFY_SPEED = 0.6


@dataclass(frozen=True)
class Login:
    username: str
    role: str | None  # None: the superuser


LOGINS = (
    Login("admin", None),
    Login("director", "director"),
    Login("payroll_officer", "payroll_officer"),
    Login("trainer", "trainer"),
    Login("county_official", "county_official"),
    Login("worker", "worker"),
    Login("trainee", "worker"),
)
STAFF_ROLES = ("director", "payroll_officer", "trainer")


@dataclass
class RecordPlan:
    work_date: date
    task: str
    units: int
    accuracy: Decimal | None

    @property
    def project(self) -> str:
        return TASKS[self.task].project


@dataclass
class WorkerPlan:
    employee_no: str
    name: str
    gender: str
    birth_year: int
    hire_date: date
    team: str
    contract: str
    leave_date: date | None = None
    sensitive_consent: bool = False
    ethnicity: str = ""
    monitored_household: bool = False
    returner: bool = False
    insured: bool = False
    si_base: Decimal = Decimal("0.00")
    # R11.2: (category, amount per month, valid from the 1st of this month).
    special_deductions: list[tuple[str, Decimal, date]] = field(default_factory=list)
    full_year_basic_deduction: bool = False
    # R17.1, fictional: region code 990000 does not exist, the bank is "demo".
    resident_id: str = ""
    bank_account: str = ""
    login: str | None = None
    # (level, valid_from), in order; the first starts on the hire date.
    skills: list[tuple[str, date]] = field(default_factory=list)
    sessions: list[tuple[datetime, datetime]] = field(default_factory=list)
    records: list[RecordPlan] = field(default_factory=list)

    def model_fields(self) -> dict:
        return {
            "employee_no": self.employee_no,
            "name": self.name,
            "gender": self.gender,
            "birth_year": self.birth_year,
            "hire_date": self.hire_date,
            "contract": self.contract,
            "leave_date": self.leave_date,
            "sensitive_consent": self.sensitive_consent,
            "ethnicity": self.ethnicity,
            "monitored_household": self.monitored_household,
            "returner": self.returner,
            "insured": self.insured,
            "si_base": self.si_base,
            "full_year_basic_deduction": self.full_year_basic_deduction,
            "resident_id": self.resident_id,
            "bank_name": DEMO_BANK if self.bank_account else "",
            "bank_account": self.bank_account,
            "account_holder": self.name if self.bank_account else "",
        }


@dataclass
class DemoPlan:
    seed: int
    today: date
    months: list[date]  # first days of the seeded months
    first_day: date
    last_day: date  # yesterday: nothing is seeded for today
    park_opened: date
    rate_change: date
    workers: list[WorkerPlan]
    staff: list[WorkerPlan]

    @property
    def session_count(self) -> int:
        return sum(len(w.sessions) for w in self.workers)

    @property
    def record_count(self) -> int:
        return sum(len(w.records) for w in self.workers)

    @property
    def total_units(self) -> int:
        return sum(r.units for w in self.workers for r in w.records)


@dataclass
class SeedSummary:
    workers: int
    staff: int
    sessions: int
    records: int
    logins: list[Login]


@dataclass
class _Traits:
    """What a worker's learning curve and day look like."""

    ability: float  # speed relative to the median experienced worker
    accuracy_start: float
    accuracy_final: float
    speed_tau: float  # in working days
    accuracy_tau: float
    profile: tuple[tuple[int, int], ...]
    offset: int  # minutes, moves the person's blocks
    stretch: int  # minutes, lengthens or shortens them
    rest_days: frozenset[int]
    senior_from: date | None = None


# --- the plan -------------------------------------------------------------


def park_today() -> date:
    """Today in the park's time zone (the demo seeds up to yesterday)."""
    return timezone.localdate(timezone=ZoneInfo(TZ_NAME))


def demo_resident_id(n: int, birth_year: int) -> str:
    """A fictional resident ID number (region 990000) with a valid check digit."""
    first17 = (
        f"{DEMO_REGION}{birth_year}{1 + n % 12:02d}{1 + n * 7 % 28:02d}{n % 1000:03d}"
    )
    return first17 + check_digit(first17)


def month_starts(*, last_day: date, months: int) -> list[date]:
    """The first days of ``months`` months ending with the month of last_day."""
    year, month = last_day.year, last_day.month
    starts = []
    for _i in range(months):
        starts.append(date(year, month, 1))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return starts[::-1]


def _month_end(start: date) -> date:
    following = date(start.year + start.month // 12, start.month % 12 + 1, 1)
    return following - timedelta(days=1)


def _quota(n: int, shares) -> list:
    """``n`` labels in the given shares (largest remainders), in share order."""
    exact = [(label, n * share) for label, share in shares]
    counts = {label: int(x) for label, x in exact}
    rest = n - sum(counts.values())
    by_remainder = sorted(exact, key=lambda lx: lx[1] - int(lx[1]), reverse=True)
    for label, _x in by_remainder[:rest]:
        counts[label] += 1
    return [label for label, _share in shares for _i in range(counts[label])]


def _shuffled(rng: random.Random, items: list) -> list:
    items = list(items)
    rng.shuffle(items)
    return items


def _monday_on_or_before(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _names(rng: random.Random, genders: list[str], taken: set[str]) -> list[str]:
    """Made-up names from short lists, none twice (``taken`` is updated)."""
    names = []
    for gender in genders:
        while True:
            name = (
                rng.choice(SURNAMES)
                + rng.choice(GIVEN_FIRST[gender])
                + rng.choice(GIVEN_SECOND[gender])
            )
            if name not in taken:
                break
        taken.add(name)
        names.append(name)
    return names


def _cohort_days(months: list[date], last_day: date) -> list[date]:
    """New hires start in cohorts: the first and third Monday of a month."""
    days = []
    for start in months:
        first_monday = start + timedelta(days=(7 - start.weekday()) % 7)
        for day in (first_monday, first_monday + timedelta(days=14)):
            if day <= last_day:
                days.append(day)
    return days


def build_plan(*, workers: int, months: int, seed: int, today: date) -> DemoPlan:
    """The whole demo as plain values; no database access."""
    rng = random.Random(seed)
    last_day = today - timedelta(days=1)
    starts = month_starts(last_day=last_day, months=months)
    first_day = starts[0]
    park_opened = date(first_day.year - 3, 3, 1)
    change_month = starts[-2] if months >= 2 else starts[-1]
    rate_change = change_month.replace(day=16)

    # Hire dates: a few cohorts in every seeded month, the rest before.
    cohorts = _cohort_days(starts, last_day)
    new_count = min(workers // 2, round(workers * NEW_HIRES_PER_MONTH * months))
    if not cohorts:
        new_count = 0
    hires = [cohorts[i % len(cohorts)] for i in range(new_count)]
    recent_from = first_day - timedelta(days=70)
    for _i in range(workers - new_count):
        if rng.random() < 0.85:
            low, high = park_opened, recent_from - timedelta(days=1)
        else:
            low, high = recent_from, first_day - timedelta(days=1)
        day = low + timedelta(days=rng.randint(0, (high - low).days))
        hires.append(max(park_opened, _monday_on_or_before(day)))
    hires.sort()

    genders = _shuffled(
        rng, _quota(workers, [(Gender.FEMALE, WOMEN), (Gender.MALE, 1 - WOMEN)])
    )
    taken: set[str] = set()
    names = _names(rng, genders, taken)
    teams = _shuffled(rng, _quota(workers, [(t.key, t.share) for t in TEAMS]))
    returners = set(rng.sample(range(workers), round(workers * RETURNERS)))
    consenting = sorted(rng.sample(range(workers), round(workers * CONSENT)))
    ethnicity = dict(
        zip(
            consenting,
            _shuffled(rng, _quota(len(consenting), ETHNICITIES)),
            strict=True,
        )
    )
    monitored = set(
        rng.sample(consenting, min(len(consenting), round(workers * MONITORED)))
    )
    # Training agreements go to the most recent hires; part-time to anyone else.
    training_count = round(workers * TRAINING)
    recent = range(max(0, workers - 2 * training_count), workers)
    training = set(rng.sample(recent, training_count))
    others = [i for i in range(workers) if i not in training]
    part_time = set(rng.sample(others, round(workers * PART_TIME)))

    plans = []
    for i in range(workers):
        contract = (
            Contract.TRAINING
            if i in training
            else Contract.PART_TIME
            if i in part_time
            else Contract.FULL_TIME
        )
        birth_year = today.year - round(rng.triangular(21, 52, 35))
        plan = WorkerPlan(
            resident_id=demo_resident_id(i, birth_year),
            bank_account=f"{DEMO_ACCOUNT_PREFIX}{i + 1:08d}",
            employee_no=f"D{i + 1:04d}",
            name=names[i],
            gender=genders[i],
            birth_year=birth_year,
            hire_date=hires[i],
            team=teams[i],
            contract=contract,
            sensitive_consent=i in ethnicity,
            ethnicity=ethnicity.get(i, ""),
            monitored_household=i in monitored,
            returner=i in returners,
            full_year_basic_deduction=hires[i] <= date(today.year - 1, 1, 1),
        )
        if contract == Contract.FULL_TIME:
            plan.insured = True
            plan.si_base = Decimal(rng.randint(40, 60) * 100).quantize(Decimal("0.01"))
            draw = rng.random()
            since, second = hires[i].replace(day=1), starts[-2:][0]
            if draw < 0.03:  # two children, from the hire month
                plan.special_deductions.append(
                    (DeductionCategory.CHILD_EDUCATION, Decimal("4000.00"), since)
                )
            elif draw < 0.10:  # renting, then a parent reaches 60 in the 2nd month
                plan.special_deductions += [
                    (DeductionCategory.HOUSING_RENT, Decimal("1500.00"), since),
                    (DeductionCategory.ELDERLY_CARE, Decimal("3000.00"), second),
                ]
            elif draw < 0.15:  # a degree course
                plan.special_deductions.append(
                    (DeductionCategory.CONTINUING_EDUCATION, Decimal("400.00"), since)
                )
        plans.append(plan)

    _choose_worker_login(plans, first_day)
    _choose_leavers(rng, plans, starts, last_day)
    for plan in plans:
        worker_rng = random.Random(rng.getrandbits(64))
        traits = _traits(worker_rng, plan, first_day)
        _simulate(worker_rng, plan, traits, first_day=first_day, last_day=last_day)
    _choose_trainee_login(plans, first_day)

    staff = _staff(rng, park_opened, today, taken)
    return DemoPlan(
        seed=seed,
        today=today,
        months=starts,
        first_day=first_day,
        last_day=last_day,
        park_opened=park_opened,
        rate_change=rate_change,
        workers=plans,
        staff=staff,
    )


def _choose_worker_login(plans: list[WorkerPlan], first_day: date) -> None:
    """The ``worker`` login: an experienced full-time annotator."""
    settled = first_day - timedelta(days=400)
    for plan in plans:
        if (
            plan.team == TEAMS[0].key
            and plan.contract == Contract.FULL_TIME
            and plan.gender == Gender.FEMALE
            and plan.hire_date <= settled
        ):
            plan.login = "worker"
            return
    plans[0].login = "worker"


def _choose_trainee_login(plans: list[WorkerPlan], first_day: date) -> None:
    """The ``trainee`` login: a new hire who stays, qualified if possible."""
    new = [
        p
        for p in plans
        if p.hire_date >= first_day and p.leave_date is None and p.login is None
    ]
    qualified = [p for p in new if len(p.skills) > 1]
    if qualified or new:
        (qualified or new)[0].login = "trainee"


def _choose_leavers(
    rng: random.Random, plans: list[WorkerPlan], starts: list[date], last_day: date
) -> None:
    per_month = max(1, round(len(plans) * LEAVERS_PER_MONTH))
    for start in starts:
        end = min(_month_end(start), last_day)
        if end <= start:
            continue
        candidates = [
            p
            for p in plans
            if p.hire_date < start and p.leave_date is None and p.login is None
        ]
        for plan in rng.sample(candidates, min(per_month, len(candidates))):
            plan.leave_date = start + timedelta(days=rng.randint(1, (end - start).days))


def _traits(rng: random.Random, plan: WorkerPlan, first_day: date) -> _Traits:
    accuracy_final = min(99.0, max(94.5, rng.gauss(96.8, 0.9)))
    if plan.hire_date < first_day - timedelta(days=120):
        # Those who never reached the standard have left long ago.
        accuracy_final = max(accuracy_final, 95.3)
    if plan.contract == Contract.PART_TIME:
        if plan.team == "cs-evening":
            profile = "part_evening"
        elif plan.team == "cs-day" or rng.random() < 0.4:
            profile = "part_afternoon"
        else:
            profile = "part_morning"
        rest = {5, 6} if rng.random() < 0.6 else set(rng.sample(range(7), 2))
    else:
        if plan.team == "cs-day":
            profile = "cs_day"
        elif plan.team == "cs-evening":
            profile = "cs_evening"
        else:
            profile = "early" if rng.random() < 0.25 else "school"
        rest = {6} if rng.random() < 0.7 else {rng.randrange(7)}
    senior_from = None
    if plan.hire_date <= first_day - timedelta(days=540) and rng.random() < 0.3:
        senior_from = plan.hire_date + timedelta(days=rng.randint(365, 540))
    return _Traits(
        ability=min(1.3, max(0.75, rng.gauss(1.0, 0.12))),
        accuracy_start=min(89.0, max(80.0, rng.gauss(85.0, 1.5))),
        accuracy_final=accuracy_final,
        speed_tau=rng.uniform(8, 14),
        accuracy_tau=rng.uniform(6, 12),
        profile=PROFILES[profile],
        offset=rng.randrange(-30, 31, 5),
        stretch=rng.randint(-15, 15),
        rest_days=frozenset(rest),
        senior_from=senior_from,
    )


def _day_blocks(
    rng: random.Random, traits: _Traits, day: date, tz: ZoneInfo
) -> list[tuple[datetime, datetime]]:
    """One day's sessions: the person's blocks with some jitter, never overlapping."""
    blocks = []
    previous_end = 0
    midnight = datetime.combine(day, time(0), tzinfo=tz)
    for i, (start, length) in enumerate(traits.profile):
        if i and rng.random() < SHORT_DAY:
            break
        begin = start + traits.offset + rng.randint(-10, 10)
        if i:
            begin = max(begin, previous_end + 20)
        end = min(begin + length + traits.stretch + rng.randint(-15, 15), 23 * 60 + 30)
        blocks.append(
            (midnight + timedelta(minutes=begin), midnight + timedelta(minutes=end))
        )
        previous_end = end
    return blocks


def _split(rng: random.Random, team: TeamSpec, minutes: int) -> list[tuple[str, int]]:
    """How a day's minutes are spread over the team's task types."""
    if team.side_task is None or rng.random() < 0.65:
        return [(team.task, minutes)]
    side = round(minutes * rng.uniform(0.25, 0.55))
    return [(team.task, minutes - side), (team.side_task, side)]


def _qualifies(recent: deque) -> bool:
    """R15.1 over the last 10 working days (reviewed units only)."""
    if len(recent) < QUALIFY_DAYS:
        return False
    units = sum(u for u, _a, _s in recent)
    weighted = sum(u * a for u, a, _s in recent)
    speed = sum(s for _u, _a, s in recent) / len(recent)
    return (
        units >= QUALIFY_UNITS
        and weighted / units >= QUALIFY_ACCURACY
        and speed >= QUALIFY_SPEED
    )


def _simulate(
    rng: random.Random,
    plan: WorkerPlan,
    traits: _Traits,
    *,
    first_day: date,
    last_day: date,
) -> None:
    """Walk the worker's days from hire: learning curve, promotions, work.

    Days before the seeded months are walked only while the worker is still a
    trainee (to date the promotion); their sessions and records are dropped.
    """
    tz = ZoneInfo(TZ_NAME)
    team = TEAM_BY_KEY[plan.team]
    level = SkillLevel.TRAINEE
    plan.skills = [(level, plan.hire_date)]
    recent: deque = deque(maxlen=QUALIFY_DAYS)
    pending_from = last_day - timedelta(days=PENDING_DAYS - 1)
    end = last_day
    if plan.leave_date is not None:
        end = min(end, plan.leave_date - timedelta(days=1))
    worked = 0
    day = plan.hire_date
    while day <= end:
        if day < first_day and level != SkillLevel.TRAINEE:
            worked += (first_day - day).days * 6 // 7
            day = first_day
            continue
        if traits.senior_from and day >= traits.senior_from and level == "junior":
            level = SkillLevel.SENIOR
            plan.skills.append((level, traits.senior_from))
        emit = day >= first_day
        if day.weekday() in traits.rest_days or rng.random() < ABSENCE:
            day += timedelta(days=1)
            continue
        blocks = _day_blocks(rng, traits, day, tz)
        if emit:
            plan.sessions.extend(blocks)
        minutes = sum(int((e - s).total_seconds()) // 60 for s, e in blocks)
        decay_speed = math.exp(-worked / traits.speed_tau)
        decay_accuracy = math.exp(-worked / traits.accuracy_tau)
        speed = traits.ability * (1 - 0.6 * decay_speed)
        accuracy_mean = traits.accuracy_final - decay_accuracy * (
            traits.accuracy_final - traits.accuracy_start
        )
        if level == SkillLevel.SENIOR:
            speed *= 1.08
            accuracy_mean = min(99.3, accuracy_mean + 0.4)
        noise = 1.6 if level == SkillLevel.TRAINEE else 0.9
        day_units = day_weighted = 0.0
        for task, task_minutes in _split(rng, team, minutes):
            pace = TASKS[task].units_per_hour * speed * rng.gauss(1.0, 0.06)
            units = max(1, round(pace * task_minutes / 60))
            accuracy = min(100.0, max(0.0, accuracy_mean + rng.gauss(0, noise)))
            accuracy = round(accuracy, 2)
            pending = day >= pending_from and rng.random() < PENDING_REVIEW
            if emit:
                plan.records.append(
                    RecordPlan(
                        work_date=day,
                        task=task,
                        units=units,
                        accuracy=None if pending else Decimal(f"{accuracy:.2f}"),
                    )
                )
            if not pending:
                day_units += units
                day_weighted += units * accuracy
        worked += 1
        if level == SkillLevel.TRAINEE:
            recent.append(
                (day_units, day_weighted / day_units if day_units else 0, speed)
            )
            # Before the demo months a trainer qualifies a slow learner anyway.
            if _qualifies(recent) or (day < first_day and worked >= 90):
                level = SkillLevel.JUNIOR
                plan.skills.append((level, day + timedelta(days=1)))
                if traits.senior_from and traits.senior_from <= day + timedelta(
                    days=180
                ):
                    traits.senior_from = day + timedelta(days=180)
                if traits.senior_from and traits.senior_from >= first_day:
                    traits.senior_from = None
        day += timedelta(days=1)


def _staff(
    rng: random.Random, park_opened: date, today: date, taken: set[str]
) -> list[WorkerPlan]:
    """The staff logins' people (their names); they see the park through a
    staff assignment, not a worker row."""
    genders = [Gender.FEMALE, Gender.FEMALE, Gender.MALE]
    names = _names(rng, genders, taken)
    return [
        WorkerPlan(
            employee_no=f"S{i + 1:04d}",
            name=names[i],
            gender=genders[i],
            birth_year=today.year - 40 + i * 3,
            hire_date=park_opened,
            team="",
            contract=Contract.FULL_TIME,
            login=role,
            skills=[(SkillLevel.SENIOR, park_opened)],
        )
        for i, role in enumerate(STAFF_ROLES)
    ]


# --- the write ------------------------------------------------------------


def _silent(_line: str) -> None:
    pass


def demo_data_exists() -> bool:
    return Park.objects.exists()


def write_plan(
    *, plan: DemoPlan, password: str, log: Callable[[str], None] = _silent
) -> SeedSummary:
    """Store the plan in one transaction; ``log`` gets one line per stage."""
    User = get_user_model()
    clash = sorted(
        User.objects.filter(
            username__in=[login.username for login in LOGINS]
        ).values_list("username", flat=True)
    )
    if clash:
        raise ValidationError(USERS_EXIST % {"names": ", ".join(clash)})

    with transaction.atomic():
        park = park_create(**PARK, opened_on=plan.park_opened)
        users = _create_logins(password)
        log(f"Park {park.code} and {len(users)} logins")

        director = users["director"]
        task_types = {
            t.code: TaskType.objects.filter(code=t.code).first()
            or task_type_create(code=t.code, name=t.name, unit=t.unit)
            for t in TASKS.values()
        }
        clients = {
            code: Client.objects.filter(code=code).first()
            or client_create(code=code, name=name)
            for code, name in CLIENTS
        }
        projects = {
            code: project_create(
                client=clients[client], park=park, code=code, name=name
            )
            for code, name, client in PROJECTS
        }
        cards = 0
        for task in TASKS.values():
            for level, rate in zip(LEVELS, task.rates, strict=True):
                rate_card_create(
                    project=projects[task.project],
                    task_type=task_types[task.code],
                    skill_level=level,
                    rate=Decimal(rate),
                    effective_from=plan.park_opened,
                    actor=director,
                )
                cards += 1
        change = TASKS[RATE_CHANGE_TASK]
        for level, rate in zip(LEVELS, RATE_CHANGE_RATES, strict=True):
            rate_card_create(
                project=projects[change.project],
                task_type=task_types[change.code],
                skill_level=level,
                rate=Decimal(rate),
                effective_from=plan.rate_change,
                actor=director,
            )
            cards += 1
        log(
            f"{len(projects)} projects, {len(task_types)} task types, "
            f"{cards} rate cards"
        )

        teams = {t.key: team_create(park=park, name=t.name) for t in TEAMS}
        for wp in plan.staff:
            user = users[wp.login]
            user.first_name = wp.name
            user.save(update_fields=["first_name"])
        for role in (*STAFF_ROLES, "county_official"):
            staff_assign(user=users[role], park=park)
        ids = {}
        promotions = 0
        for wp in plan.workers:
            first_level, _start = wp.skills[0]
            worker = worker_create(
                park=park,
                team=teams[wp.team],
                skill_level=first_level,
                user=users.get(wp.login) if wp.login else None,
                **wp.model_fields(),
            )
            for category, amount, valid_from in wp.special_deductions:
                special_deduction_set(
                    worker=worker,
                    category=category,
                    monthly_amount=amount,
                    valid_from=max(valid_from, worker.hire_date.replace(day=1)),
                )
            for level, valid_from in wp.skills[1:]:
                worker_set_skill_level(
                    worker=worker, level=level, valid_from=valid_from
                )
                promotions += 1
            ids[wp.employee_no] = worker.pk
        log(
            f"{len(plan.workers)} workers, {len(plan.staff)} staff logins, "
            f"{promotions} promotions"
        )

        sessions, records = _write_work(plan, ids, projects, task_types, log)
    return SeedSummary(
        workers=len(plan.workers),
        staff=len(plan.staff),
        sessions=sessions,
        records=records,
        logins=list(LOGINS),
    )


def _create_logins(password: str) -> dict:
    User = get_user_model()
    # One hash for all: the demo prints the same password for every login.
    hashed = make_password(password)
    users = {}
    for login in LOGINS:
        superuser = login.role is None
        user = User.objects.create(
            username=login.username,
            password=hashed,
            is_staff=superuser,
            is_superuser=superuser,
        )
        if login.role:
            user.groups.add(Group.objects.get_or_create(name=login.role)[0])
        users[login.username] = user
    return users


def _write_work(plan, ids, projects, task_types, log) -> tuple[int, int]:
    """Sessions and records, month by month, in bulk."""
    month_of = {}
    for start in plan.months:
        day = start
        while day.month == start.month:
            month_of[day] = start
            day += timedelta(days=1)
    sessions_by_month = defaultdict(list)
    records_by_month = defaultdict(list)
    for wp in plan.workers:
        worker_id = ids[wp.employee_no]
        for start, end in wp.sessions:
            session = WorkSession(worker_id=worker_id, start=start, end=end)
            session.derive(TZ_NAME)
            sessions_by_month[month_of[session.work_date]].append(session)
        for record in wp.records:
            records_by_month[month_of[record.work_date]].append(
                WorkRecord(
                    worker_id=worker_id,
                    project_id=projects[record.project].pk,
                    task_type_id=task_types[record.task].pk,
                    work_date=record.work_date,
                    units=record.units,
                    accuracy=record.accuracy,
                    source=SOURCE,
                    external_id=(
                        f"{SOURCE}-{wp.employee_no}-{record.work_date:%Y%m%d}-"
                        f"{record.task}"
                    ),
                )
            )
    sessions = records = 0
    for start in plan.months:
        month_sessions = sessions_by_month[start]
        month_records = records_by_month[start]
        WorkSession.objects.bulk_create(month_sessions, batch_size=BATCH)
        WorkRecord.objects.bulk_create(month_records, batch_size=BATCH)
        sessions += len(month_sessions)
        records += len(month_records)
        log(
            f"{start:%Y-%m}: {len(month_sessions)} sessions, "
            f"{len(month_records)} work records"
        )
    return sessions, records
