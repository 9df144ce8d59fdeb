"""The period page on a phone: its payslips come a page at a time and can be
searched by name or employee number, at a bounded number of queries."""

import re

import pytest
from django.test import Client

from payroll import views
from tests.pages import build_park, count_queries

pytestmark = pytest.mark.django_db


def rows(response) -> list[str]:
    table = response.content.decode().split('id="period-payslips"')[1]
    table = table.split("</table>")[0]
    return re.findall(r'href="/payslips/([^/"]+)/"', table)


@pytest.fixture
def small_pages(monkeypatch):
    monkeypatch.setattr(views, "PERIOD_PAGE_SIZE", 5)


def test_payslips_are_paginated(small_pages):
    """12 payslips at 5 a page: 5, 5 and 2, in employee-number order, and the
    heading still counts all 12."""
    _park, _workers, director, _officer, period = build_park(12)
    client = Client()
    client.force_login(director)
    url = f"/park/payroll/{period.pk}/"
    seen = []
    for page, expected in ((1, 5), (2, 5), (3, 2)):
        response = client.get(url, {"page": page})
        assert response.status_code == 200
        numbers = rows(response)
        assert len(numbers) == expected
        seen += numbers
    assert len(set(seen)) == 12
    first = client.get(url)
    assert "12" in first.content.decode().split('id="payslips"')[1].split("</h2>")[0]
    assert "page=2" in first.content.decode()  # a link to the next page


def test_payslips_are_found_by_employee_number_and_by_name(small_pages):
    _park, workers, director, _officer, period = build_park(12)
    client = Client()
    client.force_login(director)
    url = f"/park/payroll/{period.pk}/"
    target = workers[7]
    by_number = rows(client.get(url, {"q": target.employee_no}))
    by_name = rows(client.get(url, {"q": target.name}))
    slip = target.payslips.get(period=period).number
    assert by_number == [slip]
    assert slip in by_name
    assert rows(client.get(url, {"q": "nobody-has-this-name"})) == []


def test_a_search_costs_the_same_queries_in_a_bigger_park(small_pages):
    counts = []
    for size in (3, 15):
        _park, workers, director, _officer, period = build_park(size)
        client = Client()
        client.force_login(director)
        url = f"/park/payroll/{period.pk}/?q={workers[0].employee_no}&page=1"
        status, queries = count_queries(client, url)
        assert status == 200
        counts.append(queries)
    assert counts[0] == counts[1] <= 22
