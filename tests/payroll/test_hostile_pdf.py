"""A payslip PDF of a worker with markup in the name and team shows it as text."""

import io
from datetime import date

import pytest
from pypdf import PdfReader

from payroll import periods
from payroll.models import Payslip
from payroll.pdf import render_payslip
from tests import factories
from tests.factories import add_record, make_catalogue, make_worker
from workforce.services import team_create

pytestmark = pytest.mark.django_db
MARCH = date(2026, 3, 1)
MARKUP = ["A<B", '<a href="http://x">t</a>', '<img src="/etc/passwd"/>']


def test_payslip_pdf_shows_markup_as_text(park):
    project, task_type = make_catalogue(park)
    for value in MARKUP:
        team = team_create(park=park, name=value)
        worker = make_worker(park, name=value, team=team)
        add_record(worker, project, task_type, date(2026, 3, 2), 100)
    run = factories.calculate(periods.period_get_or_create(park=park, month=MARCH))
    assert run.status == "done", run.message
    for slip in Payslip.objects.filter(period__park=park).select_related("worker"):
        data = render_payslip(slip, list(slip.lines.all()))
        text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)
        assert slip.worker.name in text
        assert b"/URI" not in data and b"/Subtype /Image" not in data
