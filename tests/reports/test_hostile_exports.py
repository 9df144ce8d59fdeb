"""Exports with hostile names: no formula in a CSV cell, no markup in a PDF."""

import csv
import io

import pytest
from django.test import Client
from django.urls import reverse
from pypdf import PdfReader

from reports import training, training_pdf
from tests.pages import build_park
from tests.reports.test_county_views import build_park as build_county_park
from tests.reports.test_county_views import official
from tests.reports.test_training import AS_OF, setting  # noqa: F401 (fixture)
from workforce.models import Park, Team, Worker

pytestmark = pytest.mark.django_db
FORMULAS = ['=HYPERLINK("http://x")', "+1", "-2+3", "@SUM(A1)"]
MARKUP = ["A<B", '<a href="http://x">t</a>', '<img src="/etc/passwd"/>']


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    client.cookies["django_language"] = "en"
    return client


def csv_rows(content: bytes) -> list[list[str]]:
    text = content.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def test_staff_csv_neutralises_formulas():
    park, workers, director, *_ = build_park(4)
    for worker, value in zip(workers, FORMULAS, strict=True):
        team = Team.objects.create(park=park, name=value)
        Worker.objects.filter(pk=worker.pk).update(name=value, team=team)
    response = login(director).get(reverse("park:staff_csv"))
    rows = csv_rows(b"".join(response.streaming_content))
    names = {row[1] for row in rows[1:]}
    teams = {row[2] for row in rows[1:]}
    quoted = {"'" + value for value in FORMULAS}
    assert quoted <= names and quoted <= teams


def test_county_csv_neutralises_formulas():
    parks = [
        build_county_park(f"f{n}", workers=5, name=value)
        for n, value in enumerate(FORMULAS[:2])
    ]
    Park.objects.filter(pk=parks[0].pk).update(township="-2+3")
    Park.objects.filter(pk=parks[1].pk).update(township="@SUM(A1)")
    client = login(official(*parks))
    rows = csv_rows(client.get(reverse("county:report_csv") + "?month=2026-03").content)
    cells = {cell for row in rows[1:] for cell in row}
    for value in (*FORMULAS[:2], "-2+3", "@SUM(A1)"):
        assert "'" + value in cells
        assert value not in cells


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_training_pdf_shows_markup_as_text(setting):  # noqa: F811
    park, *_rest, able, close, far = setting
    Park.objects.filter(pk=park.pk).update(name=MARKUP[1])
    for worker, value in zip((able, close, far), MARKUP, strict=True):
        Team.objects.filter(pk=worker.team_id).update(name=value)
        Worker.objects.filter(pk=worker.pk).update(name=value)
    park.refresh_from_db()
    report = training.training_report(park=park, as_of=AS_OF)
    data = training_pdf.render_training_report(report)
    text = pdf_text(data)
    assert MARKUP[1] in text
    for value in MARKUP:
        assert value in text
    assert b"/URI" not in data and b"/Subtype /Image" not in data


def test_county_pdf_shows_markup_as_text():
    parks = [
        build_county_park(f"m{n}", workers=5, name=value)
        for n, value in enumerate(MARKUP)
    ]
    client = login(official(*parks))
    response = client.get(reverse("county:report_pdf") + "?month=2026-03")
    assert response.status_code == 200
    text = pdf_text(response.content)
    for value in MARKUP:
        assert value in text
    data = response.content
    assert b"/URI" not in data and b"/Subtype /Image" not in data
