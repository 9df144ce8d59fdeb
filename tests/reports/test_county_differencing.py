"""R16.4: the differencing of the one new hire (the figures of two
consecutive months tell a new hire's ethnicity and household) is closed.

Audited as in ``tests.reports.test_county_disclosure``; this module imports
nothing that the report had before the rounding, so that it runs, and fails,
on the report that published exact counts.
"""

from datetime import date

import pytest

from reports.county import trend_months
from tests.reports.disclosure import audited, new_park, person, signed_in
from workforce.models import Worker

pytestmark = pytest.mark.django_db

MONTHS = trend_months(date(2026, 3, 1), 2)  # February and March 2026


@pytest.fixture(autouse=True)
def _english_pages(client):
    """The audit reads the CSV's English headings."""
    client.cookies["django_language"] = "en"


# --- the differencing of the one new hire -------------------------------------


@pytest.mark.parametrize(
    "hires,leavers",
    [
        (1, 5),  # employed −4 with 5 leavers shown: exactly one joined
        (5, 0),  # employed +5 with 5 new hires shown: exactly five joined
    ],
)
def test_two_consecutive_months_do_not_reveal_the_new_hires(client, hires, leavers):
    """A park of 30 (10 of a smaller ethnic group, 8 from monitored
    households) where in March the new hires are all of a smaller ethnic group
    and from monitored households, and the leavers neither. With exact
    counts, February's and March's figures tell how many joined (employed,
    new hires and leavers) and that the smaller ethnic groups and the
    monitored households grew by as many: each new hire's ethnicity and
    household can be read off. Published rounded, they cannot: the figures
    are consistent both with a new hire who is and one who is not."""
    park = new_park()
    for i in range(30):
        person(park, minority=i < 10, monitored_household=i < 8)
    for i in range(leavers):
        # Han, not monitored, leaving mid-March
        victim = Worker.objects.filter(park=park, ethnicity="汉族").order_by("pk")[i]
        victim.leave_date = date(2026, 3, 16)
        victim.save(update_fields=["leave_date"])
    for _i in range(hires):
        person(park, hire=date(2026, 3, 9), minority=True, monitored_household=True)
    _published, result = audited(signed_in(client, park), [park], MONTHS)
    revealed = [f for f in result.findings if "among those in" in f]
    assert not revealed, revealed
    assert not result.findings, result.findings
