"""Tasks without Redis: in a thread of the server process, so that the request
that starts a calculation answers at once and its progress bar moves."""

import threading
from datetime import date
from decimal import Decimal

import pytest
from django.test import Client

from payroll import payslip_files, periods
from payroll.models import PayrollRun, Payslip
from payroll.queue import background
from tests.factories import (
    add_record,
    make_catalogue,
    make_park,
    make_user,
    make_worker,
)

MONTH = date(2026, 3, 1)


class Gate:
    """A task that waits until the test opens it."""

    task = "test.gate"

    def __init__(self):
        self.open = threading.Event()

    def apply(self):
        assert self.open.wait(timeout=30)


@pytest.mark.django_db(transaction=True)
def test_a_calculation_started_from_the_page_runs_in_the_background(settings):
    """With no Redis (eager Celery) and PAYROLL_TASKS_IN_THREAD, the POST that
    starts a run returns while the run is still queued; the run
    then finishes in the background with every payslip and its progress at
    100 %, and the payslip PDFs and the bundle follow."""
    settings.PAYROLL_TASKS_IN_THREAD = True
    # The background thread first waits for the test: the test database is
    # SQLite in memory, which locks tables between threads rather than waiting
    # as the file database of `make demo` does, so the two never overlap here.
    gate = Gate()
    background.put(gate)
    park = make_park()
    project, task_type = make_catalogue(park, rate=Decimal("0.5000"))
    for _ in range(15):
        worker = make_worker(park)
        add_record(worker, project, task_type, date(2026, 3, 2), 100)
    director = make_user("director", park=park)
    period = periods.period_get_or_create(park=park, month=MONTH)
    client = Client()
    client.force_login(director)

    response = client.post(
        f"/park/payroll/calculate/?park={park.code}", {"month": "2026-03"}
    )
    assert response.status_code == 302
    run = PayrollRun.objects.get(period=period)
    assert run.status == "queued"  # the request did not run it
    assert client.get(response["Location"]).status_code == 200  # the progress page
    assert Payslip.objects.filter(period=period).count() == 0

    gate.open.set()
    background.wait()
    run.refresh_from_db()
    assert run.status == "done" and run.progress == 100
    assert Payslip.objects.filter(period=period).count() == 15
    status = client.get(f"/park/runs/{run.pk}/").json()
    assert status["status"] == "done" and status["progress"] == 100
    files = payslip_files.period_pdf_status(period=period)
    assert files.pending == 0 and files.bundle is not None  # the PDFs followed
