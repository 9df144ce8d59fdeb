"""Payslip files leave the server only through the authenticated, scoped view,
with DEBUG on or off, and are stored under names nobody can guess."""

import importlib
from datetime import date

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client, override_settings
from django.urls import clear_url_caches

import config.urls
from payroll import payslip_files, periods
from payroll.models import Payslip
from tests.factories import (
    add_record,
    calculate,
    make_catalogue,
    make_park,
    make_user,
    make_worker,
)

pytestmark = pytest.mark.django_db
MARCH = date(2026, 3, 1)


@pytest.fixture
def slips(park):
    """Two workers of the park with a payslip PDF each."""
    march = periods.period_get_or_create(park=park, month=MARCH)
    own, other = make_worker(park, with_login=True), make_worker(park, with_login=True)
    project, task_type = make_catalogue(park)
    for worker in (own, other):
        add_record(worker, project, task_type, date(2026, 3, 2), 100)
    assert calculate(march).status == "done"
    return Payslip.objects.get(worker=own), Payslip.objects.get(worker=other)


@pytest.fixture
def debug_urls():
    """The URLconf as ``make demo`` builds it: with DEBUG on."""
    with override_settings(DEBUG=True):
        clear_url_caches()
        importlib.reload(config.urls)
        yield
    clear_url_caches()
    importlib.reload(config.urls)


def test_media_path_of_a_payslip_is_not_served_with_debug(slips, debug_urls):
    """With DEBUG on, the stored file's media address answers 404 to an
    anonymous visitor and to another worker: no static media route."""
    mine, _theirs = slips
    url = f"/media/{mine.pdf.name}"
    assert Client().get(url).status_code == 404
    other = Client()
    other.force_login(_theirs.worker.user)
    assert other.get(url).status_code == 404
    # Still downloadable by its worker, through the view.
    own = Client()
    own.force_login(mine.worker.user)
    response = own.get(f"/payslips/{mine.number}/pdf/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content)[:5] == b"%PDF-"


def test_stored_payslip_name_is_not_guessable(slips):
    """The stored name carries a random-looking token beside the number: the
    park, month and number alone do not give the file's address."""
    mine, theirs = slips
    folder, filename = mine.pdf.name.rsplit("/", 1)
    assert folder == f"payslips/{mine.period.park.code}/2026-03"
    assert filename != f"{mine.number}.pdf"
    assert filename.startswith(f"{mine.number}-") and filename.endswith(".pdf")
    token = filename[len(mine.number) + 1 : -len(".pdf")]
    assert len(token) >= 32
    assert token not in theirs.pdf.name


def test_another_persons_payslip_pdf_is_404(slips):
    """The authenticated view is scoped: another worker's payslip is 404, an
    anonymous visitor is sent to the login page."""
    mine, theirs = slips
    client = Client()
    client.force_login(mine.worker.user)
    assert client.get(f"/payslips/{theirs.number}/pdf/").status_code == 404
    assert Client().get(f"/payslips/{mine.number}/pdf/").status_code == 302
    stranger = Client()
    stranger.force_login(make_user("director", park=make_park()))
    assert stranger.get(f"/payslips/{mine.number}/pdf/").status_code == 404


def test_a_file_under_its_old_guessable_name_moves_when_downloaded(slips):
    """A payslip stored before names had a token is rendered again under its
    new name the first time it is downloaded; the old name is left behind."""
    mine, _theirs = slips
    new_name = mine.pdf.name
    old_name = f"{new_name.rsplit('/', 1)[0]}/{mine.number}.pdf"
    default_storage.save(old_name, ContentFile(b"%PDF-old"))
    Payslip.objects.filter(pk=mine.pk).update(pdf=old_name)
    name, handle = payslip_files.payslip_pdf_for_user(user=mine.worker.user, pk=mine.pk)
    with handle:
        assert handle.read()[:5] == b"%PDF-" and name == f"{mine.number}.pdf"
    mine.refresh_from_db()
    assert mine.pdf.name == new_name
    assert payslip_files.payslip_pdfs_cleanup(period=mine.period) == [
        f"{mine.number}.pdf"
    ]
