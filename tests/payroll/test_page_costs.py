"""What the worker's busiest pages cost, and that their caches stay exact:
the earnings page's month and chart, a payslip's lines, the cell formatting
done in Python instead of template filters, sessions and the Redis client."""

import os
import re
import subprocess
import sys
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.template import Context, Template
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from payroll.earnings import day_sessions, earnings_history, month_view
from payroll.models import PayslipLine, Project, QualityTier, TaskType
from payroll.periods import adjustment_add
from payroll.services import rate_card_create
from payroll.templatetags.parkpay import day_rows, line_rows, year_month
from payroll.views import history_chart
from tests.factories import SH, add_record, calculate, make_user
from tests.pages import build_park, count_queries
from workforce.cache import RedisCacheClient
from workforce.models import WorkSession
from workforce.services import work_session_log, worker_set_skill_level

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent.parent


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def page(client, url: str) -> str:
    """The page without its per-request CSRF tokens."""
    html = client.get(url).content.decode()
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)


def test_earnings_page_read_again_from_the_caches_is_the_same_page():
    """The second view reads the month from the cache: fewer queries, same HTML."""
    _park, workers, *_ = build_park(2)
    client = login(workers[0].user)
    month = (timezone.localdate().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    url = f"/me/?month={month}"
    first_html = page(client, url)
    status, first = count_queries(client, url)
    second_html = page(client, url)
    assert status == 200 and first_html == second_html
    # Session, user, roles, worker and park, today's sessions, 12 months' pay.
    assert first <= 6
    assert "¥" in second_html and 'id="month-net"' in second_html


def test_earnings_month_cached_per_worker():
    """Two workers of one park never share a cached month or chart."""
    _park, workers, *_ = build_park(2)
    month = (timezone.localdate().replace(day=1) - timedelta(days=1)).replace(day=1)
    pages = []
    for worker in workers:
        pages.append(page(login(worker.user), f"/me/?month={month:%Y-%m}"))
    assert workers[0].name in pages[0] and workers[0].name not in pages[1]
    nets = [re.search(r'<span id="month-net">([^<]+)<', p).group(1) for p in pages]
    assert nets == [
        f"{month_view(worker=w, month=month).estimate.net:,.2f}" for w in workers
    ]


def _new_rate(park, month):
    project = Project.objects.get(park=park)
    for level in ("trainee", "junior", "senior"):
        rate_card_create(
            project=project,
            task_type=TaskType.objects.get(code="box"),
            skill_level=level,
            rate=Decimal("0.6000"),
            effective_from=month,
        )


def _standard_tier_pays_less(park, month):
    tier = QualityTier.objects.get(project__park=park, label="standard")
    tier.multiplier = Decimal("0.90")
    tier.save()


def _tier_removed(park, month):
    QualityTier.objects.filter(project__park=park, label="standard").delete()


@pytest.mark.parametrize(
    "change, piece",
    [
        (_new_rate, {(Decimal("0.6000"), Decimal("1.00"))}),
        (_standard_tier_pays_less, {(Decimal("0.5000"), Decimal("0.90"))}),
        (_tier_removed, {(Decimal("0.5000"), Decimal("0.80"))}),  # 96.50: below
    ],
)
def test_a_price_change_reaches_cached_months_and_catalogues_at_once(
    change, piece, django_capture_on_commit_callbacks
):
    """A rate card or tier saved or deleted, however, forgets the park's cached
    months and the catalogue each process keeps of the park once it commits:
    the next view prices the month anew. Until then a second worker's month
    is priced from the kept catalogue, without reading the prices again."""
    park, workers, *_ = build_park(2)
    month = (timezone.localdate().replace(day=1) - timedelta(days=1)).replace(day=1)

    def rates(worker):
        lines = month_view(worker=worker, month=month).estimate.lines
        return {(ln.rate, ln.multiplier) for ln in lines if str(ln.kind) == "piece"}

    def reads_prices(worker) -> bool:
        with CaptureQueriesContext(connection) as queries:
            rates(worker)
        return any("payroll_ratecard" in q["sql"] for q in queries.captured_queries)

    assert rates(workers[0]) == {(Decimal("0.5000"), Decimal("1.00"))}
    assert not reads_prices(workers[1])
    with django_capture_on_commit_callbacks(execute=True):
        change(park, month)
    assert reads_prices(workers[0])
    assert rates(workers[0]) == rates(workers[1]) == piece


def test_a_workers_adjustment_and_promotion_reach_their_cached_month_at_once(
    django_capture_on_commit_callbacks,
):
    """A bonus added and a promotion each forget the worker's cached month; a
    senior's new price reaches a junior's month unchanged until promoted."""
    park, workers, director, _officer, period = build_park(1)
    worker = workers[0]

    def month():
        return month_view(worker=worker, month=period.month).estimate

    before = month()
    with django_capture_on_commit_callbacks(execute=True):
        adjustment_add(
            period=period,
            worker=worker,
            kind="bonus",
            amount=Decimal("100.00"),
            reason="Night shift",
            actor=director,
        )
    assert month().taxable == before.taxable + Decimal("100.00")
    with django_capture_on_commit_callbacks(execute=True):
        rate_card_create(
            project=Project.objects.get(park=park),
            task_type=TaskType.objects.get(code="box"),
            skill_level="senior",
            rate=Decimal("0.7000"),
            effective_from=period.month,
        )
    assert {ln.rate for ln in month().lines if ln.kind == "piece"} == {
        Decimal("0.5000")
    }
    with django_capture_on_commit_callbacks(execute=True):
        worker_set_skill_level(worker=worker, level="senior", valid_from=period.month)
    assert {ln.rate for ln in month().lines if ln.kind == "piece"} == {
        Decimal("0.7000")
    }


def test_history_chart_cached_under_its_figures_and_language():
    _park, workers, *_ = build_park(1)
    worker = workers[0]
    month = (timezone.localdate().replace(day=1) - timedelta(days=1)).replace(day=1)
    estimate = month_view(worker=worker, month=month).estimate
    history = earnings_history(worker=worker)
    with translation.override("en"):
        english = history_chart(history, estimate, worker=worker)
        assert english == history_chart(history, estimate)  # the cached one
    with translation.override("zh-hans"):
        chinese = history_chart(history, estimate, worker=worker)
    assert english != chinese
    # The month before, paid: a new bar (the estimate stands for its own month).
    changed = [((month - timedelta(days=1)).replace(day=1), Decimal(9), Decimal(8))]
    changed += history
    with translation.override("en"):
        assert history_chart(changed, estimate, worker=worker) == history_chart(
            changed, estimate
        )
        assert history_chart(changed, estimate, worker=worker) != english


def test_payslip_lines_read_once_and_a_recalculation_shows_new_ones():
    """A payslip's lines are cached under the payslip; recalculating makes a
    new payslip (same number), whose lines show at once."""
    park, workers, _director, _officer, period = build_park(1)
    worker = workers[0]
    client = login(worker.user)
    slip = period.payslips.get(worker=worker)
    url = f"/payslips/{slip.number}/"
    before = page(client, url)
    status, cached = count_queries(client, url)
    assert status == 200
    assert cached <= 4  # session, user, roles, the payslip: not its lines
    assert page(client, url) == before
    project = park.projects.get()
    task_type = project.rate_cards.first().task_type
    add_record(worker, project, task_type, period.month + timedelta(days=9), 1000)
    period.refresh_from_db()
    period.status = "open"
    period.save(update_fields=["status"])
    calculate(period)
    new = period.payslips.get(worker=worker)
    assert new.number == slip.number and new.pk != slip.pk
    after = page(client, url)
    assert after != before
    line = PayslipLine.objects.filter(payslip=new, kind="piece").order_by("-amount")[0]
    assert f"{line.amount:,.2f}" in after


def test_payslip_list_shows_own_payslips_and_404_without_a_worker_record():
    _park, workers, _director, _officer, period = build_park(2)
    status, queries = count_queries(login(workers[0].user), "/me/payslips/")
    assert status == 200 and queries <= 4
    html = page(login(workers[0].user), "/me/payslips/")
    assert period.payslips.get(worker=workers[0]).number in html
    assert period.payslips.get(worker=workers[1]).number not in html
    no_record = make_user("worker")
    assert login(no_record).get("/me/payslips/").status_code == 404
    both = make_user("worker")
    both.groups.add(Group.objects.get_or_create(name="director")[0])
    assert login(both).get("/me/payslips/").status_code == 404


def test_day_sessions_counts_today_and_finds_the_open_session(mid_month):
    """A session across midnight counts its minutes after midnight for today,
    and today's open session is found and counted up to now.

    Pinned at noon: just after midnight, a session from yesterday that ends
    after midnight would still be running, and no room is left for both."""
    _park, workers, *_ = build_park(1)
    worker = workers[0]
    today = mid_month
    yesterday = today - timedelta(days=1)
    evening = datetime(yesterday.year, yesterday.month, yesterday.day, 22, tzinfo=SH)
    # 22:00 yesterday to 01:00 today: 60 minutes of it fall on today.
    work_session_log(worker=worker, start=evening, end=evening + timedelta(hours=3))
    minutes, open_session = day_sessions(worker=worker, day=today)
    assert (minutes, open_session) == (60, None)
    start = timezone.now() - timedelta(minutes=30)
    session = WorkSession.objects.create(
        worker=worker, start=start, end=None, minutes=0, work_date=today
    )
    minutes, open_session = day_sessions(worker=worker, day=today)
    assert open_session == session
    since_midnight = (timezone.now() - max(start, _midnight(today))).total_seconds()
    assert minutes == 60 + int(since_midnight // 60)


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=SH)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_cells_formatted_in_python_match_the_template_filters(language):
    """line_rows, day_rows and year_month show what the filters they replace
    showed, in both languages."""
    values = ["0", "1", "1.00", "0.5000", "0.0800", "157", "157.50", "-12.345"]
    values += ["1234567.8949", "0.00005", "2.5", "96.55", "100.00"]
    lines = [
        SimpleNamespace(
            kind="piece",
            amount=Decimal(v),
            project="P",
            task_type="T",
            unit="box" if i % 2 else "",
            quantity=Decimal(v),
            rate=Decimal(v),
            multiplier=Decimal(v),
            tier="standard",
            period="",
            reason="",
        )
        for i, v in enumerate(values)
    ]
    lines.append(
        SimpleNamespace(
            kind="tax",
            amount=Decimal("-3.20"),
            project="",
            task_type="",
            unit="",
            quantity=None,
            rate=None,
            multiplier=None,
            tier="",
            period="",
            reason="",
        )
    )
    days = [(date(2026, 3, d), d * 7, Decimal(d) / 3) for d in range(1, 32)]
    template = Template(
        "{% load parkpay %}"
        "{% for line in lines %}{{ line|line_label }}|"
        '{% if line.quantity is not None %}{{ line.quantity|floatformat:"-2" }}'
        "{% if line.unit %} {{ line.unit|unit_name }}{% endif %}{% endif %}|"
        '{% if line.rate is not None %}{{ line.rate|floatformat:"-4" }}{% endif %}|'
        "{% if line.multiplier is not None %}{{ line.multiplier }}{% endif %}|"
        "{{ line.amount|money }};{% endfor %}"
        '{% for day, units, pay in days reversed %}{{ day|date:"m-d D" }}|{{ units }}'
        "|{{ pay|money }};{% endfor %}"
        '{% for day, _u, _p in days %}{{ day|date:"Y-m" }};{% endfor %}'
    )
    with translation.override(language):
        expected = template.render(Context({"lines": lines, "days": days}))
        got = "".join(f"{'|'.join(row[1:])};" for row in line_rows(lines))
        got += "".join(f"{d}|{u}|{p};" for d, u, p in day_rows(days))
        got += "".join(f"{year_month(d)};" for d, _u, _p in days)
    assert got == expected


def test_sessions_are_cached_only_with_a_shared_cache():
    """Redis (shared by every process): sessions from the cache, written
    through to the database; otherwise from the database."""
    code = (
        "import django, os;"
        "os.environ['DJANGO_SETTINGS_MODULE'] = 'config.settings.local';"
        "django.setup(); from django.conf import settings as s;"
        "print(s.SESSION_ENGINE, s.CACHES['default']['BACKEND'])"
    )
    base = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    for redis_url, engine, backend in (
        ("", "django.contrib.sessions.backends.db", "locmem.LocMemCache"),
        (
            "redis://127.0.0.1:6379/0",
            "django.contrib.sessions.backends.cached_db",
            "workforce.cache.RedisCache",
        ),
    ):
        out = subprocess.run(
            [sys.executable, "-c", code],
            cwd=ROOT,
            env={**base, "REDIS_URL": redis_url},
            capture_output=True,
            text=True,
        )
        got_engine, got_backend = out.stdout.split()
        assert got_engine == engine and got_backend.endswith(backend), out.stderr


def test_redis_cache_keeps_one_client_per_pool():
    """No connection is made: the client and its pool are built lazily."""
    cache = RedisCacheClient(["redis://127.0.0.1:6399/0"])
    assert cache.get_client() is cache.get_client(write=True)
