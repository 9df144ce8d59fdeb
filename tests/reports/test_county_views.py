"""The county official's report pages: access, exports, no person's record."""

import csv
import io
import re
from datetime import date
from decimal import Decimal

import pytest
from django.test import TestCase
from django.urls import reverse
from pypdf import PdfReader

from payroll import periods
from payroll.models import Payslip
from payroll.services import work_record_create
from tests.factories import make_catalogue, make_user, make_worker
from workforce.services import park_create, staff_assign

MARCH = date(2026, 3, 1)
QUERY = "?month=2026-03"
pytestmark = pytest.mark.django_db

_ext = iter(range(1, 10**9))


@pytest.fixture(autouse=True)
def _english_pages(client):
    """These tests read English labels; Chinese is checked elsewhere."""
    client.cookies["django_language"] = "en"


def official(*parks):
    user = make_user("county_official")
    for park in parks:
        staff_assign(user=user, park=park)
    return user


def work(worker, project, task_type, units=100):
    work_record_create(
        worker=worker,
        project=project,
        task_type=task_type,
        work_date=date(2026, 3, 2),
        units=units,
        accuracy=Decimal("97.00"),
        source="test",
        external_id=f"v{next(_ext)}",
    )


def calculate(park):
    period = periods.period_get_or_create(park=park, month=MARCH)
    with TestCase.captureOnCommitCallbacks(execute=True):
        periods.payroll_run_start(period=period, actor=None)


def build_park(code, *, workers, lone_minority=True, name=None):
    """A park with ``workers`` active part-time workers paid 1000, 1500, 2000,
    … yuan in March, one of whom (when ``lone_minority``) is the only member
    of a smaller ethnic group."""
    park = park_create(
        name=name or f"园区{code}", code=code, county="示例县", township="示例镇"
    )
    project, task_type = make_catalogue(park, rate=Decimal("1.0000"))
    for i in range(workers):
        fields = {}
        if lone_minority and i == 0:
            fields = {
                "sensitive_consent": True,
                "ethnicity": "保安族",
                "name": "马小兰",
            }
        worker = make_worker(park, contract="part_time", **fields)
        work(worker, project, task_type, units=1000 + 500 * i)
    calculate(park)
    return park


@pytest.fixture
def county_parks(db):
    return [
        build_park("north", workers=12, name="北园 North"),
        build_park("south", workers=7, name="南园 South"),
    ]


@pytest.fixture
def county_client(client, county_parks):
    client.force_login(official(*county_parks))
    return client


URLS = ["county:report", "county:report_csv", "county:report_pdf"]


# --- access -------------------------------------------------------------------


@pytest.mark.parametrize("name", URLS)
def test_anonymous_is_sent_to_login(client, name):
    """Every report URL sends an anonymous visitor to the login page."""
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("role", ["worker", "director", "payroll_officer", "trainer"])
@pytest.mark.parametrize("name", URLS)
def test_other_roles_get_404(client, county_parks, role, name):
    """A worker, director, payroll officer or trainer gets 404, even one
    assigned to the same park: the report is the county official's."""
    client.force_login(make_user(role, park=county_parks[0]))
    assert client.get(reverse(name) + QUERY).status_code == 404


def test_county_official_gets_404_on_person_pages(county_client, county_parks):
    """A county official cannot open a worker's pages, a payslip or the staff
    table: 404, as for anybody else's object."""
    payslip = Payslip.objects.filter(period__park=county_parks[0]).first()
    for url in [
        reverse("me:home"),
        reverse("me:payslips"),
        reverse("payslip", args=[payslip.number]),
        reverse("payslip_pdf", args=[payslip.number]),
        reverse("park:staff"),
        reverse("park:staff_csv"),
    ]:
        assert county_client.get(url).status_code == 404, url


def test_home_leads_the_official_to_the_report(county_client):
    """Signing in lands on the report."""
    response = county_client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"] == reverse("county:report")


# --- the page -------------------------------------------------------------------


def test_report_page_shows_the_table_and_three_charts(county_client):
    """The page shows each park, the total, and the three charts as inline
    SVG (drawn without script: the only scripts are the site's own files,
    nothing inline, nothing from another site)."""
    response = county_client.get(reverse("county:report") + QUERY)
    assert response.status_code == 200
    html = response.content.decode()
    assert "北园 North" in html and "南园 South" in html
    assert html.count("<svg") == 3
    scripts = re.findall(r"<script[^>]*>", html)
    assert scripts and all(
        re.fullmatch(r'<script src="/static/js/[\w.]+\.js" defer>', s) for s in scripts
    )
    assert not re.search(r"""(src|href)=["']https?://""", html)
    rows = response.context["rows"]
    assert [r["level"] for r in rows] == ["total", "park", "park"]
    employed = {r["label"]: r["cells"][0][0] for r in rows}
    # 19, 12 and 7, rounded to 5 (R16.4)
    assert employed == {
        "示例县, all parks": "20",
        "北园 North": "10",
        "南园 South": "5",
    }


def test_grouping_by_township(county_client):
    """?by=township shows the township rows and the total."""
    response = county_client.get(reverse("county:report") + QUERY + "&by=township")
    rows = response.context["rows"]
    assert [(r["level"], r["label"]) for r in rows] == [
        ("total", "示例县, all parks"),
        ("township", "示例镇"),
    ]


def test_no_link_reaches_a_persons_record(county_client):
    """Every link on the page is the report itself, its exports, home,
    login/logout, or the language switch: none reaches a worker, a payslip
    or a park's staff pages."""
    html = county_client.get(reverse("county:report") + QUERY).content.decode()
    targets = set(re.findall(r"""(?:href|action)="([^"]*)\"""", html))
    allowed = (
        reverse("county:report"),
        reverse("home"),
        reverse("logout"),
        reverse("set_language"),
        "/static/",
        "?month=",
    )
    assert targets
    for target in targets:
        assert target.startswith(allowed), target
        assert not re.search(r"/(me|payslips|park|admin|api)/", target), target


def test_small_cells_never_show_a_single_workers_sensitive_value(county_client):
    """The lone 保安族 worker of each park is in a "<5" cell; neither the
    ethnicity, nor the worker's name, nor an employee number appears in the
    page, the CSV or the PDF."""
    page = county_client.get(reverse("county:report") + QUERY).content.decode()
    csv_text = county_client.get(reverse("county:report_csv") + QUERY).content.decode()
    pdf = county_client.get(reverse("county:report_pdf") + QUERY)
    pdf_text = "".join(
        p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages
    )
    for output in (page, csv_text, pdf_text):
        assert "<5" in output or "&lt;5" in output
        assert "保安族" not in output
        assert "马小兰" not in output
        assert not re.search(r"E\d{6}", output)
    rows = list(csv.reader(io.StringIO(csv_text.lstrip("\ufeff"))))
    header, north = rows[0], rows[2]
    assert north[header.index("Smaller ethnic groups")] == "<5"


def test_csv_export(county_client):
    """The CSV holds the page's rows with the same figures, as a download."""
    response = county_client.get(reverse("county:report_csv") + QUERY)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "employment-2026-03-park.csv" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode().lstrip("\ufeff"))))
    header = rows[0]
    assert header[:3] == ["Month", "Park", "Township"]
    assert header[-1] == "Minimum wage M"
    assert [r[-1] for r in rows[1:]] == ["2080.00"] * 3
    assert [r[1] for r in rows[1:]] == ["示例县, all parks", "北园 North", "南园 South"]
    employed = header.index("Employed at month end")
    assert [r[employed] for r in rows[1:]] == ["20", "10", "5"]  # 19, 12, 7
    at_least = header.index("Earning at least M")
    assert all(r[0] == "2026-03" for r in rows[1:])
    # North pays 1000–6500 (9 at or above 2080, 3 below), south 1000–4000 (4
    # and 3): each park's "below M" is small, so its count is hidden; the
    # total (13 of 19) is shown, rounded.
    assert [r[at_least] for r in rows[1:]] == ["15", "<5", "<5"]
    # The shares beside the counts, as on the page: from the rounded counts,
    # and "—" where a count is hidden (every worker is a woman here, so the
    # women cell is hidden with the men).
    women, minorities = header.index("Women %"), header.index("Smaller ethnic groups %")
    assert [(r[women], r[minorities]) for r in rows[1:]] == [("—", "—")] * 3


def test_pdf_export(county_client):
    """The PDF opens, holds the title, the Chinese park names (embedded font)
    and the suppression note."""
    response = county_client.get(reverse("county:report_pdf") + QUERY)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    text = "".join(page.extract_text() for page in reader.pages)
    assert "Employment report 2026-03" in text
    assert "北园" in text and "南园" in text
    assert "fewer than 5 people" in text
    assert "R16" not in text  # no rule numbers in what officials read


def test_page_without_parks(client):
    """An official with no assignment sees an explanation, not an error."""
    client.force_login(official())
    response = client.get(reverse("county:report"))
    assert response.status_code == 200
    assert b"No park is assigned" in response.content


def test_bad_month_falls_back_to_the_last_complete_month(county_client):
    """An unreadable month shows the last complete month."""
    response = county_client.get(reverse("county:report") + "?month=nonsense")
    assert response.status_code == 200
    assert response.context["month"].day == 1


# --- query count ------------------------------------------------------------------


def test_page_query_count_does_not_grow_with_the_workers(
    client, django_assert_max_num_queries
):
    """The page costs the same fixed number of queries for 6 or 30 workers
    per park (built twice with different sizes)."""
    counts = []
    for size, suffix in ((6, "a"), (30, "b")):
        parks = [
            build_park(f"x{suffix}", workers=size, lone_minority=False),
            build_park(f"y{suffix}", workers=size, lone_minority=False),
        ]
        client.force_login(official(*parks))
        with django_assert_max_num_queries(12) as queries:
            response = client.get(reverse("county:report") + QUERY)
        assert response.status_code == 200
        # 12 and 60 active, rounded to 5 (R16.4)
        assert response.context["report"].total.active.value == {6: 10, 30: 60}[size]
        counts.append(len(queries.captured_queries))
    assert counts[0] == counts[1]


def test_pdf_shows_the_same_figures_as_the_csv(county_client):
    """R16.4: the PDF's table holds, row by row, exactly the figures of the
    CSV (rounded counts, hidden cells, pay, M and shares), in the same
    order."""
    csv_rows = list(
        csv.reader(
            io.StringIO(
                county_client.get(reverse("county:report_csv") + QUERY)
                .content.decode()
                .lstrip("\ufeff")
            )
        )
    )
    header = csv_rows[0]
    pdf = county_client.get(reverse("county:report_pdf") + QUERY)
    text = " ".join(
        "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
        .replace(",", "")
        .split()
    )
    m = header.index("Minimum wage M")
    for row in csv_rows[1:]:
        # the counts, pay and M, then the shares (the PDF puts M before them)
        figures = [*row[3 : m - 2], row[m], *row[m - 2 : m]]
        assert " ".join(figures) in text, (row, figures)
