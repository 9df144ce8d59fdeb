"""Fuzzing the importers and the pages' parameters (hypothesis): random
bytes, JSON and CSV-ish text give an import report (good or with errors) or
a ValidationError, never another exception; random months, sorts, searches
and payslip numbers never get a 5xx."""

import io
import json
from urllib.parse import quote

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from payroll import imports
from tests.factories import make_user
from tests.pages import build_park
from tests.payroll.test_imports import HEADER, World

pytestmark = pytest.mark.django_db
FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
FORMATS = ["csv", "labelstudio", "cvat-quality"]

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from(["2026-03-02T02:00:00Z", "9999-12-31T23:59:59-12:00", "17"]),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                ["id", "annotations", "completed_by", "created_at", "result", "job_id"]
            )
            | st.text(max_size=5),
            inner,
            max_size=5,
        )
    ),
    max_leaves=25,
)
cells = st.text(
    alphabet=st.characters(codec="utf-8") | st.sampled_from(list(',"\n\r\t\x00-=9')),
    max_size=12,
)
csv_text = st.lists(st.lists(cells, max_size=9), max_size=8).map(
    lambda rows: HEADER + "\n".join(",".join(row) for row in rows)
)


@pytest.fixture
def world(db):
    return World()


def run(world, content: bytes, fmt: str):
    try:
        report = imports.import_work(
            file=io.BytesIO(content),
            fmt=fmt,
            project=world.project,
            task_type=world.box,
        )
    except ValidationError:
        return
    assert isinstance(report, imports.ImportReport)
    json.dumps(report.as_dict(), ensure_ascii=False).encode()


@pytest.mark.parametrize("fmt", FORMATS)
@FUZZ
@given(content=st.binary(max_size=3000))
def test_random_bytes(world, fmt, content):
    run(world, content, fmt)


@pytest.mark.parametrize("fmt", FORMATS)
@FUZZ
@given(value=json_values)
def test_random_json(world, fmt, value):
    run(world, json.dumps(value).encode(), fmt)


@pytest.mark.parametrize("fmt", FORMATS)
@FUZZ
@given(text=csv_text)
def test_csvish_text(world, fmt, text):
    run(world, text.encode("utf-8", "surrogatepass"), fmt)


@pytest.fixture
def clients(db):
    park, workers, director, *_ = build_park(1)
    staff, worker, county = Client(), Client(), Client()
    staff.force_login(director)
    worker.force_login(workers[0].user)
    county.force_login(make_user("county_official", park=park))
    return staff, worker, county


parameters = st.text(
    alphabet=st.characters(exclude_categories=["Cs"]), max_size=30
) | st.sampled_from(["9999-12", "0000-00", "2026-02", "-units", "9" * 5000, "\x00"])


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(month=parameters, sort=parameters, q=parameters, number=parameters)
def test_page_parameters_never_get_a_server_error(clients, month, sort, q, number):
    staff, worker, county = clients
    answers = [
        staff.get("/park/staff/", {"month": month, "sort": sort, "q": q}),
        staff.get("/park/staff.csv", {"month": month, "sort": sort, "q": q}),
        staff.get("/park/coverage/", {"month": month}),
        worker.get("/me/", {"month": month}),
        county.get("/county/", {"month": month, "by": sort}),
        worker.get(f"/payslips/{quote(number, safe='')}/"),
        staff.get(f"/payslips/{quote(number, safe='')}/pdf/"),
        staff.get("/api/v1/workers/", {"search": q, "ordering": sort}),
    ]
    for response in answers:
        assert response.status_code < 500, response.request
