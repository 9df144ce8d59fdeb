"""Forms as a Chinese phone gets them."""

import re
from datetime import datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from tests.factories import SH
from tests.pages import build_park
from workforce.services import work_session_log

pytestmark = pytest.mark.django_db


def _date_values(html: str) -> list[str]:
    return re.findall(r'<input type="date"[^>]*value="([^"]*)"', html)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_date_fields_go_to_the_browser_in_iso_format(language):
    """<input type="date"> only takes 2026-12-01; in zh-hans Django's own date
    format (2026/12/01) left the field empty, so a fix to a session could not
    be saved. The log form, the fix form and the rate card's "valid from"."""
    _park, workers, director, *_ = build_park(1)
    worker = workers[0]
    client = Client()
    client.force_login(worker.user)
    client.post("/i18n/setlang/", {"language": language, "next": "/me/"})
    today = timezone.localdate()
    assert _date_values(client.get("/me/hours/").content.decode()) == [
        today.isoformat()
    ]
    yesterday = today - timedelta(days=1)
    start = datetime(yesterday.year, yesterday.month, yesterday.day, 19, tzinfo=SH)
    session = work_session_log(
        worker=worker, start=start, end=start + timedelta(hours=1)
    )
    fix = client.get(f"/me/hours/{session.pk}/").content.decode()
    assert _date_values(fix) == [session.work_date.isoformat()]

    # The fix form saves as it came, in either language.
    response = client.post(
        f"/me/hours/{session.pk}/",
        {"day": yesterday.isoformat(), "start": "18:00", "end": "21:00"},
    )
    assert response.status_code == 302, response.content.decode()
    session.refresh_from_db()
    assert session.minutes == 180

    staff = Client()
    staff.force_login(director)
    staff.post("/i18n/setlang/", {"language": language, "next": "/park/rates/"})
    rates = staff.get("/park/rates/").content.decode()
    # A new price takes effect from tomorrow unless the director says otherwise.
    assert _date_values(rates) == [(today + timedelta(days=1)).isoformat()]
