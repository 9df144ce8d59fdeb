"""The pictures of docs/screenshots/ (shown in the README): every role's main
pages in Chinese, on a phone (390×844) and a desktop (1366×900).

Made with ``PARKPAY_SCREENSHOTS=1 .venv/bin/python -m pytest
tests/e2e/test_screenshots.py``; otherwise skipped, as it only makes pictures.
"""

import os

import pytest

from payroll.models import PayPeriod, Payslip
from tests.e2e.conftest import phone_page

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}


def main_pages():
    slip = Payslip.objects.filter(worker__user__username="worker").latest(
        "period__month"
    )
    period = PayPeriod.objects.filter(park__code="demo").latest("month")
    return {
        "worker": [
            ("worker-home", "/me/"),
            ("worker-hours", "/me/hours/"),
            ("worker-payslips", "/me/payslips/"),
            ("worker-payslip", f"/payslips/{slip.number}/"),
        ],
        "trainee": [("trainee-training", "/me/training/")],
        "trainer": [("trainer-training", "/park/training/")],
        "director": [
            ("director-staff", "/park/staff/"),
            ("director-period", f"/park/payroll/{period.pk}/"),
            ("director-trends", "/park/trends/"),
            ("director-coverage", "/park/coverage/"),
            ("director-rates", "/park/rates/"),
            ("director-audit", "/park/audit/"),
        ],
        "payroll_officer": [("officer-payroll", "/park/payroll/")],
        "county_official": [("county-report", "/county/")],
    }


@pytest.mark.skipif(
    not os.environ.get("PARKPAY_SCREENSHOTS"), reason="PARKPAY_SCREENSHOTS=1 makes them"
)
def test_screenshots_of_every_roles_main_pages(browser, demo, shots):
    for who, pages in main_pages().items():
        for label, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
            page = phone_page(browser, demo, who, viewport=viewport)
            for name, path in pages:
                assert page.goto(f"{demo.url}{path}").status == 200
                page.wait_for_load_state("networkidle")
                page.screenshot(path=str(shots / f"{name}-{label}.png"))
            page.context.close()
