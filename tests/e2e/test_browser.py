"""The three main journeys, in a real browser, on the demo data."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from pypdf import PdfReader

from payroll.earnings import month_estimate
from payroll.models import PayPeriod, Payslip
from tests.e2e.conftest import CSP_VIOLATIONS, screenshot_both, sign_in
from workforce.models import Worker, WorkSession


def test_worker_journey(browser, demo, shots, tmp_path):
    """A worker logs in, switches to Chinese, sees this month's estimate equal
    to the selector's, logs a session and downloads a payslip PDF."""
    page = sign_in(browser, demo, "worker")
    page.goto(f"{demo.url}/me/")
    page.click("form.lang button[value=en]")
    assert page.locator("html").get_attribute("lang") == "en"
    page.click("form.lang button[value=zh-hans]")
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert "估算" in page.content() or "预计" in page.content()

    worker = Worker.objects.get(user__username="worker")
    estimate = month_estimate(worker=worker)
    assert estimate.in_progress
    assert page.locator("#month-earned").inner_text() == f"{estimate.earned:,.2f}"

    page.goto(f"{demo.url}/me/hours/")
    yesterday = timezone.localdate() - timedelta(days=1)
    before = WorkSession.objects.filter(worker=worker).count()
    page.fill("input[name=day]", yesterday.isoformat())
    page.fill("input[name=start]", "21:00")
    page.fill("input[name=end]", "22:30")
    page.click("form.stack button[type=submit]")
    page.wait_for_load_state()
    assert WorkSession.objects.filter(worker=worker).count() == before + 1
    assert "21:00" in page.locator("#sessions").inner_text()

    page.goto(f"{demo.url}/me/payslips/")
    link = page.locator("#payslips a[download]").first
    with page.expect_download() as download:
        link.click()
    path = tmp_path / "payslip.pdf"
    download.value.save_as(path)
    reader = PdfReader(path)
    payslip = Payslip.objects.filter(worker=worker).order_by("-period__month").first()
    text = "".join(p.extract_text() for p in reader.pages)
    assert worker.name in text
    assert f"{payslip.net:,.2f}" in text or f"{payslip.net:.2f}" in text
    page.context.close()
    screenshot_both(browser, demo, "worker", "/me/", shots, "worker-home")


def test_director_journey(browser, demo, shots, payroll_worker):
    """A director sorts the staff table, starts a payroll calculation, sees the
    progress bar reach done, then approves it after a confirmation step (R13.2:
    only a month that is over, so last month)."""
    page = sign_in(browser, demo, "director")
    # Last month: on the 1st the month in progress has no work yet.
    last_month = (timezone.localdate().replace(day=1) - timedelta(days=1)).strftime(
        "%Y-%m"
    )
    page.goto(f"{demo.url}/park/staff/?month={last_month}")
    page.click("#staff-table th a[data-sort=units]")
    page.click("#staff-table th a[data-sort=units]")  # second click: descending
    page.wait_for_load_state()
    units = [
        int(t) for t in page.locator("#staff-table tbody td.units").all_inner_texts()
    ]
    assert units == sorted(units, reverse=True) and units[0] > 0

    last_month = (timezone.localdate().replace(day=1) - timedelta(days=1)).replace(
        day=1
    )
    page.goto(f"{demo.url}/park/payroll/")
    page.select_option(
        "#calculate-form select[name=month]", last_month.strftime("%Y-%m")
    )
    page.click("#calculate-form button[type=submit]")
    page.wait_for_selector("#run[data-status=done]", timeout=60_000)
    assert page.locator("#run-progress").get_attribute("value") == "100"
    page.click("#approve")
    page.wait_for_load_state()
    assert PayPeriod.objects.get(park__code="demo", month=last_month).status == (
        "calculated"
    )  # not yet: the page asks first
    page.click("#confirm-action")
    page.wait_for_load_state()
    period = PayPeriod.objects.get(park__code="demo", month=last_month)
    assert period.status == "approved"
    assert re.search(
        "approved|已批准|已审批", page.locator("#period-status").inner_text()
    )
    page.context.close()
    screenshot_both(browser, demo, "director", "/park/staff/", shots, "director-staff")


def test_county_official_journey(browser, demo, shots):
    """A county official sees the report and cannot open a worker page (404)."""
    page = sign_in(browser, demo, "county_official")
    response = page.goto(f"{demo.url}/county/")
    assert response.status == 200
    payslip = Payslip.objects.first()
    for path in ("/me/", f"/payslips/{payslip.number}/", "/park/staff/"):
        assert page.goto(f"{demo.url}{path}").status == 404
    page.context.close()
    screenshot_both(
        browser, demo, "county_official", "/county/", shots, "county-report"
    )


def test_api_docs_render_for_the_director(browser, demo):
    """Swagger UI and Redoc run under the CSP, from ParkPay's own files."""
    page = sign_in(browser, demo, "director")
    page.goto(f"{demo.url}/api/docs/")
    page.wait_for_selector("#swagger-ui .information-container", timeout=20000)
    page.goto(f"{demo.url}/api/redoc/")
    page.wait_for_selector("redoc h1, [role=navigation]", timeout=20000)
    page.context.close()
    # Redoc's footer logo is on its CDN: blocked, as nothing comes from outside.
    CSP_VIOLATIONS[:] = [v for v in CSP_VIOLATIONS if "https://cdn.redoc.ly/" not in v]


def test_two_factor_setup_page_shows_its_qr_code(browser, demo):
    """The setup page's QR code is drawn by ParkPay and shown under the CSP."""
    page = sign_in(browser, demo, "director")
    page.goto(f"{demo.url}/accounts/two-factor/")
    assert page.locator("figure.qr svg").is_visible()
    assert "otpauth://totp/" in page.content()


def test_a_paid_month_is_closed_and_a_void_is_paid_back_next_month(browser, demo):
    """R13.5 in the browser: a worker cannot log hours in a paid month and is
    told whom to ask; a director voids one of its records from the period's
    page, recalculates this month and finds the correction on the payslip."""
    from django.utils import translation

    from payroll import periods
    from payroll.calculation import month_bounds
    from payroll.models import WorkCorrection
    from workforce.closing import MONTH_CLOSED

    this_month = timezone.localdate().replace(day=1)
    last_month = (this_month - timedelta(days=1)).replace(day=1)
    paid = PayPeriod.objects.get(park__code="demo", month=last_month)
    periods.period_approve(period=paid, actor=None)
    periods.period_mark_paid(period=paid, actor=None)
    worker = Worker.objects.get(user__username="worker")

    page = sign_in(browser, demo, "worker")
    page.goto(f"{demo.url}/me/hours/")
    page.fill("input[name=day]", (last_month + timedelta(days=1)).isoformat())
    page.fill("input[name=start]", "08:00")
    page.fill("input[name=end]", "10:00")
    before = WorkSession.objects.filter(worker=worker).count()
    page.click("form.stack button[type=submit]")
    page.wait_for_load_state()
    with translation.override("zh-hans"):
        closed = str(MONTH_CLOSED) % {"month": paid.label}
    assert closed in page.content()
    assert WorkSession.objects.filter(worker=worker).count() == before
    page.context.close()

    page = sign_in(browser, demo, "director")
    page.goto(f"{demo.url}/park/payroll/{paid.pk}/")
    page.fill("#records-employee-no", worker.employee_no)
    page.click("#corrections button[type=submit]")
    page.wait_for_load_state()
    page.locator("#period-records a").first.click()
    page.wait_for_load_state()
    page.check("input[name=action][value=void]")
    page.fill("input[name=reason]", "重复录入")
    page.click("#correct-form button[type=submit]")
    page.wait_for_load_state()
    correction = WorkCorrection.objects.get()
    assert correction.booked_month == month_bounds(last_month)[1] == this_month
    assert "重复录入" in page.locator("#period-corrections").inner_text()

    following = periods.period_get_or_create(park=paid.park, month=this_month)
    page.goto(f"{demo.url}/park/payroll/{following.pk}/")
    page.click("form[action*='calculate'] button[type=submit]")
    page.wait_for_selector("#run[data-status=done]", timeout=60_000)
    slip = Payslip.objects.get(period=following, worker=worker)
    line = slip.lines.get(kind="correction")
    assert line.amount < 0 and line.ref_period == paid.label
    page.goto(f"{demo.url}/payslips/{slip.number}/")
    text = page.content()
    assert f"{paid.label} 更正" in text and "重复录入" in text
    assert f"{line.amount:,.2f}" in text
    page.context.close()


def test_a_certificate_of_income_is_issued_and_verified_on_a_phone(
    browser, demo, tmp_path
):
    """R17.3 in the browser at 360 px: the worker issues a certificate of her
    paid month, downloads the PDF; its QR code (decoded with zxing-cpp) opens
    the public verification page, which a visitor without a login reads as
    valid, with the masked name and the total only."""
    zxingcpp = pytest.importorskip("zxingcpp")
    from payroll import certificates, periods
    from tests.payroll.test_certificates import _qr_image

    this_month = timezone.localdate().replace(day=1)
    last_month = (this_month - timedelta(days=1)).replace(day=1)
    paid = PayPeriod.objects.get(park__code="demo", month=last_month)
    periods.period_approve(period=paid, actor=None)
    periods.period_mark_paid(period=paid, actor=None)
    worker = Worker.objects.get(user__username="worker")
    slip = Payslip.objects.get(period=paid, worker=worker)

    page = sign_in(browser, demo, "worker", width=360, height=780)
    page.goto(f"{demo.url}/me/payslips/")
    page.click("a[href='/me/certificates/']")
    page.select_option("select[name=span_start]", paid.label)
    page.select_option("select[name=span_end]", paid.label)
    page.click("#certificate-form button[type=submit]")
    page.wait_for_load_state()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    with page.expect_download() as download:
        page.locator("#certificates a[download]").first.click()
    path = tmp_path / "certificate.pdf"
    download.value.save_as(path)
    data = path.read_bytes()
    text = PdfReader(path).pages[0].extract_text()
    assert f"{slip.net:,.2f}" in text and f"{slip.taxable:,.2f}" in text
    found = zxingcpp.read_barcodes(_qr_image(data))
    assert len(found) == 1 and found[0].text.startswith(f"{demo.url}/verify/")
    page.context.close()

    visitor = browser.new_context(viewport={"width": 360, "height": 780}).new_page()
    visitor.goto(found[0].text)
    body = visitor.locator("#verification").inner_text()
    assert "有效" in body and certificates.mask_name(worker.name) in body
    assert f"{slip.net:,.2f}" in body and worker.name not in body
    assert visitor.evaluate("document.documentElement.scrollWidth") <= 360
    visitor.context.close()
