"""Hostile requests get a 400 or a form error, never a 500: months at the end
of time, NUL characters in a path or query, a login name already taken."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from tests.factories import make_user
from tests.pages import build_park

pytestmark = pytest.mark.django_db

MONTH_PAGES = [
    ("director", "/park/staff/"),
    ("director", "/park/staff.csv"),
    ("director", "/park/coverage/"),
    ("worker", "/me/"),
    ("county_official", "/county/"),
    ("county_official", "/county/report.csv"),
    ("county_official", "/county/report.pdf"),
]


def login(user) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


@pytest.fixture
def users():
    park, workers, director, *_ = build_park(1)
    return {
        "director": director,
        "worker": workers[0].user,
        "county_official": make_user("county_official", park=park),
    }


@pytest.mark.parametrize(("role", "url"), MONTH_PAGES)
@pytest.mark.parametrize("month", ["9999-12", "0000-01", "1-1", "2026-13", "9" * 5000])
def test_months_out_of_range_are_400_or_the_default(users, role, url, month):
    response = login(users[role]).get(url, {"month": month})
    assert response.status_code in (200, 400)
    if month == "9999-12":
        assert response.status_code == 400


@pytest.mark.parametrize(
    "url",
    [
        "/park/staff/?q=%00",
        "/park/staff/?sort=%00",
        "/park/staff/?month=2026-01%00",
        "/park/staff.csv?team=a%00b",
        "/park/staff/?%00=1",
        "/payslips/AB%00CD/",
        "/payslips/AB%00CD/pdf/",
        "/api/v1/workers/?search=%00",
    ],
)
def test_a_nul_character_in_the_path_or_query_is_400(users, url):
    assert login(users["director"]).get(url).status_code == 400


def test_setting_a_password_when_the_login_name_is_taken_is_a_form_error(users):
    _park, workers, director, *_ = build_park(1)
    worker = workers[0]
    worker.user = None
    worker.save(update_fields=["user"])
    get_user_model().objects.create(username=worker.employee_no.lower())
    response = login(director).post(
        f"/park/workers/{worker.pk}/password/", {"password": "a-long-new-passphrase-7"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors
    worker.refresh_from_db()
    assert worker.user is None
