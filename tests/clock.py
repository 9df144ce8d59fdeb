"""The test clock.

``pytest --fake-now=2027-01-01T00:30+08:00`` runs the whole suite with the
clock travelling (ticking) from that instant, so that a test which only passes
at some times of the month fails where everyone can see it. ``make test-clock``
runs the suite at the instants where date code usually breaks.

A test that needs a particular time of the month pins it with ``pinned`` and
says why in its docstring; every other test builds its data relative to "now"
so that it holds at any instant.
"""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

PARK_TZ = ZoneInfo("Asia/Shanghai")

# The instants ``make test-clock`` runs the suite at.
RISKY_INSTANTS = (
    "2027-03-01T00:30+08:00",  # the 1st of a month, just after local midnight
    "2026-12-31T23:30+08:00",  # the last day of a month (and of a year), late
    "2027-01-01T00:30+08:00",  # New Year in Shanghai, still 31 December in UTC
    "2028-02-29T12:00+08:00",  # a leap day
    "2026-12-02T04:30+08:00",  # the 2nd of a month, before the working day
)


def parse_instant(value: str) -> datetime:
    """An aware datetime from ISO 8601; a naive one is park time."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as error:
        raise pytest.UsageError(
            f"--fake-now: {value!r} is not an ISO 8601 date and time, "
            "for example 2027-01-01T00:30+08:00"
        ) from error
    return moment if moment.tzinfo else moment.replace(tzinfo=PARK_TZ)


def pytest_addoption(parser):
    parser.addoption(
        "--fake-now",
        metavar="ISO",
        default=None,
        help="run every test with the clock travelling from this instant "
        "(naive means Asia/Shanghai), e.g. 2027-01-01T00:30+08:00",
    )


def pytest_configure(config):
    value = config.getoption("--fake-now")
    if not value:
        return
    traveller = time_machine.travel(parse_instant(value), tick=True)
    traveller.start()
    config.stash[_traveller_key] = traveller


def pytest_unconfigure(config):
    traveller = config.stash.get(_traveller_key, None)
    if traveller is not None:
        traveller.stop()


def pytest_report_header(config):
    value = config.getoption("--fake-now")
    if value:
        return f"clock: travelling from {parse_instant(value).isoformat()}"
    return None


_traveller_key = pytest.StashKey[time_machine.travel]()


def park_now() -> datetime:
    return datetime.now(PARK_TZ)


def pinned(day: date, at: time = time(12)):
    """Travel to ``at`` on ``day`` in park time, the clock ticking from there."""
    return time_machine.travel(datetime.combine(day, at, tzinfo=PARK_TZ), tick=True)


def mid_this_month() -> date:
    """The 15th of the current month in park time."""
    return park_now().date().replace(day=15)


def last_month_start(today: date | None = None) -> date:
    today = today or park_now().date()
    return (today.replace(day=1) - timedelta(days=1)).replace(day=1)
