"""The test clock: ``--fake-now`` and the pinned fixtures (tests/clock.py)."""

import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
import time_machine
from django.utils import timezone

from tests.clock import RISKY_INSTANTS, mid_this_month, parse_instant, pinned

ROOT = Path(__file__).resolve().parent.parent.parent

PROBE = """
from datetime import datetime, timezone

def test_now():
    now = datetime.now(timezone.utc)
    assert (now.year, now.month, now.day, now.hour) == (2026, 12, 31, 16), now
"""


def _run_probe(tmp_path, *options):
    probe = tmp_path / "test_probe.py"
    probe.write_text(PROBE)
    command = [sys.executable, "-m", "pytest", "-p", "tests.clock", *options]
    isolated = [
        "-q",
        "-p",
        "no:cacheprovider",
        "-c",
        "/dev/null",
        f"--rootdir={tmp_path}",
    ]
    return subprocess.run(
        [*command, str(probe), *isolated],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_fake_now_moves_the_clock_of_every_test(tmp_path):
    """--fake-now=2027-01-01T00:30+08:00 is 16:30 UTC on 31 December 2026 in
    the tests it runs; without it the probe sees today's real clock and fails
    (unless it is run on that very hour)."""
    moved = _run_probe(tmp_path, "--fake-now=2027-01-01T00:30+08:00")
    assert moved.returncode == 0, moved.stdout + moved.stderr
    real = _run_probe(tmp_path)
    assert real.returncode == 1, real.stdout


def test_fake_now_refuses_what_is_not_a_date(tmp_path):
    result = _run_probe(tmp_path, "--fake-now=next-tuesday")
    assert result.returncode != 0
    assert "is not an ISO 8601 date and time" in result.stderr


def test_a_naive_instant_is_park_time():
    assert parse_instant("2028-02-29T12:00").utcoffset().total_seconds() == 8 * 3600


def test_risky_instants_cover_month_ends_new_year_and_a_leap_day():
    days = {parse_instant(i).date() for i in RISKY_INSTANTS}
    assert date(2028, 2, 29) in days and date(2027, 1, 1) in days
    assert any(d.day == 1 for d in days) and any(d.day == 2 for d in days)


@pytest.mark.parametrize("instant", RISKY_INSTANTS)
def test_mid_month_is_noon_on_the_15th_of_the_month_in_progress(instant):
    """Whatever the clock says, the pinned mid-month is the 15th of its month."""
    with time_machine.travel(parse_instant(instant), tick=False):
        month = timezone.localdate().replace(day=1)
        with pinned(mid_this_month()):
            assert timezone.localdate() == month.replace(day=15)
            assert timezone.localtime().hour == 12
