"""The demo seeder: realistic shares, consistent hours and work, logins per role.

The seeder runs once per module (80 workers, 2 months, seed 7) inside a
transaction that is rolled back when the module is done; each test runs in a
savepoint inside it, as usual.
"""

from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal
from io import StringIO
from itertools import pairwise
from statistics import median
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone

from demo import seed as demo
from demo.management.commands.seed_demo import DATA_EXISTS, SKIPPED
from payroll.models import QualityTier, RateCard, WorkRecord
from payroll.services import DEFAULT_TIERS
from workforce.models import Park, SkillPeriod, Worker, WorkSession
from workforce.selectors import skill_level_on, user_park_ids, worker_list

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
WORKERS, MONTHS, SEED = 80, 2, 7
PASSWORD = "demo-pass-2026"
SMALLER_GROUPS = {"东乡族", "回族", "保安族", "撒拉族", "土族"}


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """One seeded database for the module, rolled back afterwards."""
    with django_db_blocker.unblock(), transaction.atomic():
        today = demo.park_today()
        out = StringIO()
        call_command(
            "seed_demo",
            workers=WORKERS,
            months=MONTHS,
            seed=SEED,
            password=PASSWORD,
            stdout=out,
        )
        yield SimpleNamespace(today=today, output=out.getvalue())
        transaction.set_rollback(True)


def producers():
    """The demo's production workers."""
    return Worker.objects.filter(employee_no__startswith="D")


def test_output_reports_stages_counts_and_logins(seeded):
    """The command prints a line per stage and month, the counts and every login."""
    out = seeded.output
    assert "rate cards" in out
    for start in demo.month_starts(
        last_day=seeded.today - timedelta(days=1), months=MONTHS
    ):
        assert f"{start:%Y-%m}:" in out
    sessions, records = WorkSession.objects.count(), WorkRecord.objects.count()
    assert f"Seeded {WORKERS} workers" in out
    assert f"{sessions} sessions, {records} work records in" in out
    for login in demo.LOGINS:
        assert f"{login.username} / {PASSWORD}" in out


def test_women_are_about_seventy_percent(seeded):
    """Women are 70 % of the workforce, within 8 points."""
    workers = Worker.objects.all()
    share = workers.filter(gender="female").count() / workers.count()
    assert 0.62 <= share <= 0.78


def test_smaller_ethnic_groups_are_the_majority(seeded):
    """Of the workers who consented, more than half are from smaller ethnic groups."""
    consenting = producers().filter(sensitive_consent=True)
    ethnicities = list(consenting.values_list("ethnicity", flat=True))
    smaller = [e for e in ethnicities if e and e != "汉族"]
    assert set(smaller) <= SMALLER_GROUPS
    assert len(smaller) / len(ethnicities) > 0.5
    assert all(ethnicities), "everyone who consented has an ethnicity"


def test_sensitive_data_only_with_consent(seeded):
    """About 95 % consent; without consent neither ethnicity nor household is kept."""
    workers = producers()
    assert workers.filter(sensitive_consent=True).count() / workers.count() >= 0.9
    assert not workers.filter(
        Q(sensitive_consent=False) & (~Q(ethnicity="") | Q(monitored_household=True))
    ).exists()
    monitored = workers.filter(monitored_household=True).count() / workers.count()
    returners = workers.filter(returner=True).count() / workers.count()
    assert 0.10 <= monitored <= 0.20
    assert 0.20 <= returners <= 0.30


def test_contracts_and_insurance(seeded):
    """Mostly full-time (insured, base 4000-6000), some part-time and training."""
    workers = producers()
    shares = {
        c: workers.filter(contract=c).count() / workers.count()
        for c in ("full_time", "part_time", "training")
    }
    assert shares["full_time"] == pytest.approx(0.75, abs=0.03)
    assert shares["part_time"] == pytest.approx(0.15, abs=0.03)
    assert shares["training"] == pytest.approx(0.10, abs=0.03)
    for worker in workers:
        if worker.contract == "full_time":
            assert worker.insured
            assert Decimal("4000") <= worker.si_base <= Decimal("6000")
        else:
            assert not worker.insured
    assert workers.filter(special_deductions__monthly_amount__gt=0).exists()


def test_sessions_are_valid(seeded):
    """No session overlaps another of its worker, lasts over 16 h or is in the future.

    Minutes and the work date (park time) are derived as the services do.
    """
    now = timezone.now()
    by_worker = defaultdict(list)
    for session in WorkSession.objects.order_by("worker_id", "start"):
        by_worker[session.worker_id].append(session)
        assert session.end is not None
        assert timedelta(minutes=1) <= session.end - session.start
        assert session.end - session.start <= timedelta(hours=16)
        assert session.end <= now
        assert session.minutes == (session.end - session.start).total_seconds() // 60
        assert session.work_date == session.start.astimezone(SH).date()
    assert by_worker
    for sessions in by_worker.values():
        for earlier, later in pairwise(sessions):
            assert earlier.end <= later.start


def test_hours_are_about_six_a_day(seeded):
    """Full-time workers average about 6 hours on the days they work."""
    daily = defaultdict(int)
    sessions = WorkSession.objects.filter(worker__contract="full_time")
    for worker_id, day, minutes in sessions.values_list(
        "worker_id", "work_date", "minutes"
    ):
        daily[worker_id, day] += minutes
    mean_hours = sum(daily.values()) / len(daily) / 60
    assert 5.5 <= mean_hours <= 6.8


def test_work_only_while_employed_and_on_session_days(seeded):
    """Records fall on days with sessions, and nobody works after leaving."""
    session_days = set(WorkSession.objects.values_list("worker_id", "work_date"))
    record_days = set(WorkRecord.objects.values_list("worker_id", "work_date"))
    assert record_days <= session_days
    workers = {w.pk: w for w in Worker.objects.all()}
    assert any(w.leave_date for w in workers.values())
    for worker_id, day in session_days:
        assert workers[worker_id].employed_on(day)
    assert not Worker.objects.exclude(employee_no__startswith="D").exists()


def test_customer_service_does_tickets_only(seeded):
    """Customer-service agents do tickets; the others annotate or verify."""
    records = WorkRecord.objects.filter(worker__team__name__contains="客服")
    assert set(records.values_list("task_type__code", flat=True)) == {"ticket"}
    others = WorkRecord.objects.exclude(worker__team__name__contains="客服")
    assert "ticket" not in set(others.values_list("task_type__code", flat=True))


def test_trainee_accuracy_improves(seeded):
    """New hires' units-weighted accuracy is higher in week 4 than in week 1."""
    first_day = demo.month_starts(
        last_day=seeded.today - timedelta(days=1), months=MONTHS
    )[0]
    weeks = defaultdict(lambda: [0, Decimal(0)])
    records = WorkRecord.objects.filter(
        worker__hire_date__gte=first_day, accuracy__isnull=False
    ).select_related("worker")
    for record in records:
        week = (record.work_date - record.worker.hire_date).days // 7 + 1
        weeks[week][0] += record.units
        weeks[week][1] += record.units * record.accuracy
    assert weeks[1][0] and weeks[4][0], "new hires with four weeks of work"
    week_1 = weeks[1][1] / weeks[1][0]
    week_4 = weeks[4][1] / weeks[4][0]
    assert week_1 < week_4
    assert week_1 < 90 < week_4


def test_skill_history_is_consistent(seeded):
    """Every worker's levels run from the hire date, back to back, one open.

    Some new hires qualified during the demo months and became juniors; some
    workers are seniors.
    """
    periods = defaultdict(list)
    for period in SkillPeriod.objects.order_by("worker_id", "valid_from"):
        periods[period.worker_id].append(period)
    for worker in Worker.objects.all():
        history = periods[worker.pk]
        assert history[0].valid_from == worker.hire_date
        assert [p.valid_to is None for p in history].count(True) == 1
        assert history[-1].valid_to is None
        for earlier, later in pairwise(history):
            assert earlier.valid_to == later.valid_from
    first_day = demo.month_starts(
        last_day=seeded.today - timedelta(days=1), months=MONTHS
    )[0]
    promoted = SkillPeriod.objects.filter(
        level="junior", worker__hire_date__gte=first_day
    )
    assert promoted.exists()
    assert SkillPeriod.objects.filter(level="senior", valid_to=None).exists()


def test_most_records_are_reviewed(seeded):
    """Over 80 % of records have an accuracy; some of the last week do not yet."""
    records = WorkRecord.objects.all()
    pending = records.filter(accuracy__isnull=True)
    assert records.filter(accuracy__isnull=False).count() / records.count() > 0.8
    assert pending.exists()
    last_week = seeded.today - timedelta(days=demo.PENDING_DAYS)
    assert not pending.filter(work_date__lt=last_week).exists()
    assert set(records.values_list("source", flat=True)) == {"demo"}


def test_every_record_has_a_rate_card(seeded):
    """Each record's project, task type and level on its date has one valid card."""
    levels = defaultdict(list)
    for period in SkillPeriod.objects.all():
        levels[period.worker_id].append(period)
    cards = defaultdict(list)
    for card in RateCard.objects.all():
        cards[card.project_id, card.task_type_id, card.skill_level].append(card)

    def level_on(worker_id, day):
        return next(
            p.level
            for p in levels[worker_id]
            if p.valid_from <= day and (p.valid_to is None or day < p.valid_to)
        )

    records = list(WorkRecord.objects.all())
    for record in records:
        key = (record.project_id, record.task_type_id)
        valid = [
            card
            for card in cards[(*key, level_on(record.worker_id, record.work_date))]
            if card.effective_from <= record.work_date
            and (card.effective_to is None or record.work_date < card.effective_to)
        ]
        assert len(valid) == 1, record.external_id
    # The same through the real selector, for a sample.
    for record in records[:: max(1, len(records) // 50)]:
        level = skill_level_on(worker=record.worker, day=record.work_date)
        assert (
            RateCard.objects.filter(
                project_id=record.project_id,
                task_type_id=record.task_type_id,
                skill_level=level,
                effective_from__lte=record.work_date,
            )
            .filter(Q(effective_to__isnull=True) | Q(effective_to__gt=record.work_date))
            .exists()
        )


def test_mid_month_rate_change(seeded):
    """One price changes on the 16th of a month: the old card ends, a new one starts."""
    new_cards = RateCard.objects.filter(effective_from__day=16)
    assert new_cards.count() == 3
    for card in new_cards:
        old = RateCard.objects.get(
            project=card.project,
            task_type=card.task_type,
            skill_level=card.skill_level,
            effective_to=card.effective_from,
        )
        assert old.rate < card.rate


def test_good_annotator_earns_about_4000(seeded):
    """Experienced full-time juniors earn about 4,000 yuan of piece pay a month."""
    month = demo.month_starts(last_day=seeded.today - timedelta(days=1), months=2)[0]
    end = demo._month_end(month)
    tiers = sorted(DEFAULT_TIERS, reverse=True)
    assert QualityTier.objects.count() == len(tiers) * len(demo.PROJECTS)

    def multiplier(accuracy):
        if accuracy is None:
            return Decimal(1)
        return next(m for bound, m, _label in tiers if accuracy >= bound)

    juniors = [
        w
        for w in producers().filter(
            contract="full_time", hire_date__lt=month, leave_date=None
        )
        if skill_level_on(worker=w, day=month) == "junior"
        and skill_level_on(worker=w, day=end) == "junior"
    ]
    pay = defaultdict(Decimal)
    records = WorkRecord.objects.filter(
        worker__in=juniors, work_date__range=(month, end)
    )
    for record in records:
        card = RateCard.objects.filter(
            project_id=record.project_id,
            task_type_id=record.task_type_id,
            skill_level="junior",
            effective_from__lte=record.work_date,
        ).filter(Q(effective_to__isnull=True) | Q(effective_to__gt=record.work_date))
        rate = card.get().rate
        pay[record.worker_id] += record.units * rate * multiplier(record.accuracy)
    assert len(pay) >= 10
    assert 3300 <= median(pay.values()) <= 4700


def test_role_logins(seeded):
    """Every role has a login in its group; staff logins reach the park."""
    User = get_user_model()
    park = Park.objects.get(code="demo")
    for login in demo.LOGINS:
        user = User.objects.get(username=login.username)
        assert user.check_password(PASSWORD)
        if login.role is None:
            assert user.is_superuser
        else:
            assert list(user.groups.values_list("name", flat=True)) == [login.role]
    for role in demo.STAFF_ROLES:
        user = User.objects.get(username=role)
        assert user_park_ids(user) == [park.pk]
        assert not hasattr(user, "worker")  # staff are not paid workers here
        assert worker_list(user=user).count() == Worker.objects.count()
    worker_user = User.objects.get(username="worker")
    assert list(worker_list(user=worker_user)) == [worker_user.worker]
    assert worker_user.worker.records.exists()
    trainee = User.objects.get(username="trainee").worker
    assert trainee.skills.order_by("valid_from").first().level == "trainee"
    county = User.objects.get(username="county_official")
    assert not hasattr(county, "worker")
    assert user_park_ids(county) == [park.pk]
    assert worker_list(user=county).count() == 0


def test_plan_is_deterministic(seeded):
    """The same seed gives the same people and work; the database holds that plan."""
    args = {"workers": WORKERS, "months": MONTHS, "today": seeded.today}
    first = demo.build_plan(seed=SEED, **args)
    again = demo.build_plan(seed=SEED, **args)
    other = demo.build_plan(seed=SEED + 1, **args)
    assert [w.name for w in first.workers] == [w.name for w in again.workers]
    assert first.total_units == again.total_units
    assert first.workers == again.workers
    assert [w.name for w in other.workers] != [w.name for w in first.workers]

    names = list(producers().order_by("employee_no").values_list("name", flat=True))
    assert names == [w.name for w in first.workers]
    assert WorkRecord.objects.aggregate(u=Sum("units"))["u"] == first.total_units
    assert WorkSession.objects.count() == first.session_count


def test_if_empty_does_nothing_on_a_seeded_database(seeded):
    """--if-empty leaves a seeded database alone and says so."""
    counts = (Worker.objects.count(), WorkRecord.objects.count())
    out = StringIO()
    call_command("seed_demo", if_empty=True, workers=10, stdout=out)
    assert out.getvalue().strip() == SKIPPED
    assert (Worker.objects.count(), WorkRecord.objects.count()) == counts


def test_refuses_to_seed_over_data(seeded):
    """Without --if-empty, seeding a database that holds a park is an error."""
    with pytest.raises(CommandError, match="--if-empty") as exc:
        call_command("seed_demo", workers=10, stdout=StringIO())
    assert str(exc.value) == DATA_EXISTS


def test_plan_ends_yesterday_in_park_time():
    """The last seeded day is yesterday; the previous months are complete."""
    plan = demo.build_plan(workers=30, months=3, seed=1, today=date(2026, 3, 1))
    assert plan.months == [date(2025, 12, 1), date(2026, 1, 1), date(2026, 2, 1)]
    assert plan.last_day == date(2026, 2, 28)
    days = {r.work_date for w in plan.workers for r in w.records}
    assert min(days) >= date(2025, 12, 1)
    assert max(days) <= date(2026, 2, 28)
    latest = max(end for w in plan.workers for _start, end in w.sessions)
    assert latest < datetime(2026, 3, 1, tzinfo=SH)


def test_existing_demo_users_are_refused_before_writing(seeded):
    """Writing a plan when the demo's usernames exist fails and writes nothing."""
    plan = demo.build_plan(workers=10, months=1, seed=1, today=seeded.today)
    parks = Park.objects.count()
    with pytest.raises(ValidationError) as exc:
        demo.write_plan(plan=plan, password=PASSWORD)
    assert "admin" in exc.value.messages[0]
    assert Park.objects.count() == parks


@pytest.mark.parametrize(
    ("options", "name"),
    [
        ({"workers": 5}, "--workers"),
        ({"months": 0}, "--months"),
        ({"months": 13}, "--months"),
        ({"password": " "}, "--password"),
    ],
)
def test_bad_options_are_refused(options, name):
    """Sizes out of range and an empty password are command errors."""
    with pytest.raises(CommandError, match=name):
        call_command("seed_demo", stdout=StringIO(), **options)


def test_identity_and_bank_data_are_obviously_fake(seeded):
    """R17.1: every demo worker has a resident ID number in region 990000
    (no such region exists) with a valid check digit and the birth year on
    record, and an account at the demo bank, so the R17.2 exports work."""
    from workforce.identity import validate_resident_id

    workers = list(Worker.objects.all())
    assert workers
    for worker in workers:
        assert worker.resident_id.startswith("990000")
        validate_resident_id(worker.resident_id, worker.birth_year)
        assert worker.bank_name == "示例银行 (demo)"
        assert worker.bank_account.startswith("62990000")
        assert worker.account_holder == worker.name
    assert len({w.resident_id for w in workers}) == len(workers)
