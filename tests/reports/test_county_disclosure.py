"""R16.4: no combination of what the county official sees reveals a count
below 5 or one person's attribute.

Each test reads the figures as the official's pages serve them (the CSV of
every month by park and by township, the page of every month with its trend,
shares and bands) and audits them with an integer programme (see
``tests.reports.disclosure``): for every protected count the interval of
values consistent with all the published figures and their relations, and for
every group of people (the employed, those who joined, those who left) whether
an attribute of theirs is forced.
"""

from __future__ import annotations

from datetime import date

import pytest
from django.db import transaction
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from demo import seed as demo
from reports.county import ROUNDING_BASE, THRESHOLD, round_count
from tests.factories import make_user
from tests.reports.disclosure import (
    MONTHS,
    _last_day,
    audited,
    new_park,
    person,
    signed_in,
)
from tests.reports.test_county_views import build_park
from workforce.models import Worker
from workforce.services import staff_assign

pytestmark = pytest.mark.django_db

MARCH = date(2026, 3, 1)


@pytest.fixture(autouse=True)
def _english_pages(client):
    """The audit reads the CSV's English headings."""
    client.cookies["django_language"] = "en"


# --- the demo park ------------------------------------------------------------


def test_the_demo_park_over_thirteen_months(client):
    """The demo park as the seeder plans it (300 workers, 13 months of hires
    and leavers, its shares of women, smaller ethnic groups, monitored
    households and returners), its people written without their work: every
    protected count keeps an interval of at least the stated width and no
    attribute of a joiner, a leaver or the employed is forced. The rounding
    costs at most 2 people on any count."""
    plan = demo.build_plan(workers=300, months=13, seed=1, today=date(2026, 4, 1))
    assert plan.months == MONTHS
    park = new_park("demo")
    for wp in plan.workers:
        fields = wp.model_fields()
        for key in ("resident_id", "bank_name", "bank_account", "account_holder"):
            fields.pop(key)
        Worker.objects.create(park=park, team=park.team, **fields)
    published, result = audited(signed_in(client, park), [park])
    assert result.base == ROUNDING_BASE
    assert not result.findings, result.findings[:20]
    errors = [
        abs(int(text) - true)
        for name, (_lo, _hi, true) in result.intervals.items()
        for text in [published_text(published, name)]
        if text is not None and text.isdigit()
    ]
    assert errors and max(errors) <= ROUNDING_BASE // 2


def published_text(published, name):
    """The published text of an audit target named "measure unit month"."""
    measure, rest = name.split(" ", 1)
    for (unit, month, key), text in published.cells.items():
        if key == measure and rest == f"{unit} {month:%Y-%m}":
            return text
    return None


# --- parks with pay ---------------------------------------------------------------


def test_two_parks_with_pay(client):
    """Two parks of a township, 12 and 7 workers paid 1000, 1500, … yuan in
    March, with the income bands, earning at least M and the shares: no
    protected count or attribute is revealed across the 13 months, the two
    parks, the township and the total."""
    parks = [
        build_park("north", workers=12, name="园区north"),
        build_park("south", workers=7, name="园区south"),
    ]
    published, result = audited(signed_in(client, *parks), parks)
    assert any(month == MARCH for month, _i in published.bands)
    assert not result.findings, result.findings


# --- adversarial small parks ----------------------------------------------------


attributes = st.fixed_dictionaries(
    {
        "gender": st.sampled_from(["female", "male"]),
        "minority": st.booleans(),
        "monitored_household": st.booleans(),
        "returner": st.booleans(),
    }
)
month_index = st.integers(min_value=1, max_value=12)
day = st.one_of(st.integers(min_value=1, max_value=28), st.just(31))
park_plans = st.fixed_dictionaries(
    {
        "township": st.sampled_from(["甲镇", "乙镇"]),
        "staff": st.lists(attributes, min_size=0, max_size=12),
        "hires": st.lists(st.tuples(month_index, day, attributes), max_size=3),
        "leaves": st.lists(
            st.tuples(month_index, day, st.integers(0, 100)), max_size=2
        ),
    }
)


def _day_of(i: int, day: int) -> date:
    """Day ``day`` of month ``i`` of the window; 31 means its last day."""
    return _last_day(MONTHS[i]) if day == 31 else MONTHS[i].replace(day=day)


def _build(plans) -> list:
    parks = []
    for plan in plans:
        park = new_park(township=plan["township"])
        staff = [person(park, **dict(a)) for a in plan["staff"]]
        for i, d, a in plan["hires"]:
            staff.append(person(park, hire=_day_of(i, d), **dict(a)))
        for i, d, k in plan["leaves"]:
            if not staff:
                break
            worker = staff[k % len(staff)]
            leave = _day_of(i, d)
            if worker.leave_date is None and leave >= worker.hire_date:
                worker.leave_date = leave
                worker.save(update_fields=["leave_date"])
        parks.append(park)
    return parks


ONE = {
    "gender": "female",
    "minority": True,
    "monitored_household": True,
    "returner": False,
}
HAN = {
    "gender": "male",
    "minority": False,
    "monitored_household": False,
    "returner": False,
}


@settings(
    max_examples=8,
    deadline=None,
    derandomize=True,
    # Each example is 13 months of pages: a failure is reported as found,
    # not shrunk.
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plans=st.lists(park_plans, min_size=1, max_size=2))
@example(
    plans=[
        {"township": "甲镇", "staff": [HAN] * 20, "hires": [(6, 9, ONE)], "leaves": []}
    ]
)
@example(
    plans=[
        {
            "township": "甲镇",
            "staff": [HAN] * 12 + [ONE] * 8,
            "hires": [],
            "leaves": [(6, 14, 19)],
        }
    ]
)
@example(
    plans=[
        {"township": "甲镇", "staff": [ONE] * 3 + [HAN] * 3, "hires": [], "leaves": []}
    ]
)
@example(
    plans=[
        {
            "township": "甲镇",
            "staff": [HAN] * 5,
            "hires": [(4, 31, ONE)],
            "leaves": [(9, 31, 0)],
        }
    ]
)
@example(
    plans=[
        {"township": "甲镇", "staff": [HAN] * 12, "hires": [(6, 9, ONE)], "leaves": []},
        {"township": "甲镇", "staff": [HAN] * 4, "hires": [], "leaves": []},
    ]
)
def test_adversarial_small_parks(client, plans):
    """Small parks generated by hypothesis (one new hire, one leaver, a park
    of 6, leaving on a month's last day, two parks of a township or of two):
    across 13 months no count below 5 is pinned down and no person's
    attribute is forced."""
    with transaction.atomic():
        parks = _build(plans)
        user = make_user("county_official")
        for park in parks:
            staff_assign(user=user, park=park)
        client.force_login(user)
        _published, result = audited(client, parks)
        assert not result.findings, result.findings[:20]
        transaction.set_rollback(True)


# --- the rounding itself -------------------------------------------------------------


def test_counts_round_to_the_nearest_five():
    """0–2 → 0, 3–7 → 5, 8–12 → 10: never more than 2 away."""
    assert [round_count(n) for n in range(13)] == [0] * 3 + [5] * 5 + [10] * 5
    assert all(abs(round_count(n) - n) <= 2 for n in range(1000))
    assert THRESHOLD == ROUNDING_BASE == 5
