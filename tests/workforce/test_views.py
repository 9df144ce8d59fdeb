"""Worker and director pages: access, behaviour and query counts."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from payroll.earnings import month_estimate
from tests.factories import make_user
from tests.pages import build_park, count_queries
from workforce.models import WorkSession

pytestmark = pytest.mark.django_db

WORKER_PAGES = ["/me/", "/me/hours/", "/me/payslips/"]
LAST_MONTH = (timezone.localdate().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
DIRECTOR_PAGES = [
    "/park/staff/",
    f"/park/staff/?sort=-units&month={LAST_MONTH}",
    "/park/staff/?team=x&skill=junior&contract=full_time&q=1",
    "/park/staff.csv",
    "/park/trends/",
    f"/park/coverage/?month={LAST_MONTH}",
    "/park/payroll/",
    "/park/rates/",
]


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("url", WORKER_PAGES)
def test_worker_pages_have_constant_query_counts(url):
    """A worker's page costs the same number of queries in a park of 3 or 15."""
    counts = []
    for size in (3, 15):
        _park, workers, *_ = build_park(size)
        status, queries = count_queries(login(workers[0].user), url)
        assert status == 200
        counts.append(queries)
    assert counts[0] == counts[1]
    assert counts[0] <= 30


@pytest.mark.parametrize("url", DIRECTOR_PAGES)
def test_director_pages_have_constant_query_counts(url):
    """A director's page costs the same number of queries in a park of 3 or 15."""
    counts = []
    for size in (3, 15):
        _park, _workers, director, *_ = build_park(size)
        status, queries = count_queries(login(director), url)
        assert status == 200
        counts.append(queries)
    assert counts[0] == counts[1]
    assert counts[0] <= 15


def test_period_page_query_count_is_constant():
    counts = []
    for size in (3, 15):
        _park, _workers, director, _officer, period = build_park(size)
        status, queries = count_queries(login(director), f"/park/payroll/{period.pk}/")
        assert status == 200
        counts.append(queries)
    assert counts[0] == counts[1] <= 20


def test_worker_sees_the_engine_estimate(mid_month):
    """The month's figure on the page is the payroll engine's, marked estimate.

    Pinned mid-month: the month in progress needs worked days behind it."""
    _park, workers, *_ = build_park(2, month=mid_month.replace(day=1))
    worker = workers[0]
    page = login(worker.user).get("/me/").content.decode()
    estimate = month_estimate(worker=worker)
    assert estimate.is_estimate and estimate.in_progress
    assert f'<span id="month-earned">{estimate.earned:,.2f}</span>' in page
    assert estimate.earned == estimate.piece_pay > 0


def test_a_month_in_progress_shows_what_was_earned_not_a_net_of_zero(mid_month):
    """Two days into a month the headline is the pay earned so far; the
    month's social insurance (charged whole at month end) is shown apart as
    expected, not taken from two days of pay (which showed ¥0.00).

    Pinned mid-month: the month in progress needs worked days behind it."""
    _park, workers, *_ = build_park(1, month=mid_month.replace(day=1))
    worker = workers[0]
    worker.insured = True
    worker.si_base = Decimal("5000.00")
    worker.save()
    page = login(worker.user).get("/me/").content.decode()
    estimate = month_estimate(worker=worker)
    assert estimate.earned > 0 and estimate.social_insurance > 0
    assert f'<span id="month-earned">{estimate.earned:,.2f}</span>' in page
    assert 'id="month-net"' not in page
    deductions = page.split('id="month-deductions">')[1].split("</p>")[0]
    assert f"¥{estimate.social_insurance:,.2f}" in deductions


@pytest.mark.parametrize(
    "url", ["/park/staff/", "/park/payroll/", "/park/rates/", "/county/"]
)
def test_worker_gets_404_on_staff_pages(url):
    _park, workers, *_ = build_park(1)
    assert login(workers[0].user).get(url).status_code == 404


def test_anonymous_is_sent_to_login():
    response = Client().get("/me/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_other_workers_payslip_is_404():
    """Another person's payslip answers 404, not 403."""
    _park, workers, director, _officer, period = build_park(2)
    other = period.payslips.get(worker=workers[1])
    assert login(workers[0].user).get(f"/payslips/{other.number}/").status_code == 404
    assert login(director).get(f"/payslips/{other.number}/").status_code == 200
    _park2, _w2, director2, *_ = build_park(1)
    assert login(director2).get(f"/payslips/{other.number}/").status_code == 404


def test_worker_logs_a_session_and_sees_errors():
    """A session saved from the form; an overlapping one shows the reason."""
    _park, workers, *_ = build_park(1)
    client = login(workers[0].user)
    day = timezone.localdate() - timedelta(days=1)
    form = {"action": "log", "day": day.isoformat(), "start": "08:00", "end": "11:30"}
    response = client.post("/me/hours/", form)
    assert response.status_code == 302
    session = WorkSession.objects.filter(worker=workers[0]).latest("start")
    assert session.minutes == 210
    response = client.post("/me/hours/", {**form, "start": "09:00", "end": "10:00"})
    assert response.status_code == 200
    assert (
        "overlaps" in response.content.decode() or "重叠" in response.content.decode()
    )
    assert WorkSession.objects.filter(worker=workers[0], work_date=day).count() == 1


def test_clock_in_and_out_from_the_page():
    _park, workers, *_ = build_park(1)
    client = login(workers[0].user)
    client.post("/me/hours/", {"action": "clock_in"})
    assert WorkSession.objects.filter(worker=workers[0], end__isnull=True).exists()
    client.post("/me/hours/", {"action": "clock_out"})
    assert not WorkSession.objects.filter(worker=workers[0], end__isnull=True).exists()


def test_staff_table_sorts_by_units_in_the_database():
    """Sorting by units descending puts the biggest producer first."""
    _park, workers, director, _officer, period = build_park(4)
    url = f"/park/staff/?sort=-units&month={period.label}"
    page = login(director).get(url).content.decode()
    positions = [page.index(w.employee_no) for w in workers]
    assert positions == sorted(positions, reverse=True)  # later workers did more


def test_staff_csv_has_every_row_with_bom():
    _park, workers, director, *_ = build_park(3)
    response = login(director).get("/park/staff.csv")
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    assert all(w.employee_no in body for w in workers)


def test_director_sets_a_worker_password():
    _park, workers, director, *_ = build_park(1)
    client = login(director)
    url = f"/park/workers/{workers[0].pk}/password/"
    assert client.post(url, {"password": "short"}).status_code == 200
    response = client.post(url, {"password": "a-long-new-passphrase-7"})
    assert response.status_code == 302
    workers[0].user.refresh_from_db()
    assert workers[0].user.check_password("a-long-new-passphrase-7")


def test_payroll_officer_cannot_reset_passwords():
    _park, workers, _director, officer, _period = build_park(1)
    url = f"/park/workers/{workers[0].pk}/password/"
    assert login(officer).get(url).status_code == 404


def test_chinese_is_the_default_language():
    """Workers get Chinese unless they switch, whatever their browser says."""
    _park, workers, *_ = build_park(1)
    client = login(workers[0].user)
    page = client.get("/me/", HTTP_ACCEPT_LANGUAGE="en-US").content.decode()
    assert '<html lang="zh-hans">' in page
    client.post("/i18n/setlang/", {"language": "en", "next": "/me/"})
    assert '<html lang="en">' in client.get("/me/").content.decode()


def test_county_official_cannot_open_worker_pages():
    build_park(1)
    official = make_user("county_official")
    assert login(official).get("/me/").status_code == 404


def test_a_new_session_shows_at_once_on_the_earnings_page(
    django_capture_on_commit_callbacks, mid_month
):
    """The cached estimate is forgotten when the worker logs hours.

    Pinned mid-month: the month in progress needs worked days behind it."""
    today = mid_month
    _park, workers, *_ = build_park(1, month=today.replace(day=1))
    client = login(workers[0].user)
    before = month_estimate(worker=workers[0]).minutes
    client.get("/me/")
    day = today - timedelta(days=1)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/me/hours/",
            {"action": "log", "day": day.isoformat(), "start": "20:00", "end": "21:00"},
        )
    page = client.get("/me/").content.decode()
    hours = f"{(before + 60) / 60:.2f}"
    assert hours in page


def test_imported_work_shows_at_once_on_the_earnings_page(
    django_capture_on_commit_callbacks, mid_month
):
    """An import into the park forgets its workers' cached estimates.

    Pinned mid-month: the month in progress needs worked days behind it."""
    import io

    from payroll.imports import import_work

    today = mid_month
    park, workers, *_ = build_park(1, month=today.replace(day=1))
    worker = workers[0]
    client = login(worker.user)
    before = month_estimate(worker=worker).units
    client.get("/me/")
    project = park.projects.get()
    task_type = project.rate_cards.first().task_type
    csv_file = io.BytesIO(
        (
            "employee_no,project,task_type,work_date,units,accuracy,external_id\n"
            f"{worker.employee_no},{project.code},{task_type.code},"
            f"{today.isoformat()},777,97.00,imp-1\n"
        ).encode()
    )
    csv_file.name = "work.csv"
    with django_capture_on_commit_callbacks(execute=True):
        report = import_work(file=csv_file, fmt="csv", project=project)
    assert report.ok, report
    page = client.get("/me/").content.decode()
    assert f"<dd>{before + 777}</dd>" in page


def test_clocking_out_at_once_says_why_nothing_was_kept_and_hours_are_hours():
    """A clock-out within a minute of the clock-in keeps no session and says
    why; a longer one reports hours, as the sessions list shows them."""
    _park, workers, *_ = build_park(1)
    worker = workers[0]
    client = login(worker.user)
    client.post("/me/hours/", {"action": "clock_in"})
    page = client.post("/me/hours/", {"action": "clock_out"}, follow=True)
    text = page.content.decode()
    assert "不到一分钟" in text
    assert not WorkSession.objects.filter(worker=worker, end__isnull=True).exists()

    client.post("/me/hours/", {"action": "clock_in"})
    WorkSession.objects.filter(worker=worker, end__isnull=True).update(
        start=timezone.now() - timedelta(minutes=185)
    )
    text = client.post("/me/hours/", {"action": "clock_out"}, follow=True)
    text = text.content.decode()
    assert "3.08 小时" in text
    assert "185" not in text.split('id="sessions"')[1]
    assert '<td class="num">3.08</td>' in text


def test_a_month_out_of_range_is_a_400_naming_the_range(park):
    """Bounds: ?month= far in the past or future answers 400, not a page."""

    client = Client()
    client.force_login(make_user("director", park=park))
    assert client.get("/park/staff/", {"month": "1999-12"}).status_code == 400
    assert client.get("/park/staff/", {"month": "9999-01"}).status_code == 400
