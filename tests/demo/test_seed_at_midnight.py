"""The demo made just after midnight on the 1st, in a module of its own: the
seeder's module keeps one seeded database open for all its tests, and this
test needs an empty one."""

from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from payroll.models import PayPeriod, WorkRecord
from tests.clock import parse_instant
from workforce.models import WorkSession

PASSWORD = "demo-pass-2026"


@pytest.mark.parametrize(
    "instant", ["2027-03-01T00:30+08:00", "2027-01-01T00:30+08:00"]
)
def test_a_demo_made_just_after_midnight_on_the_1st(instant, transactional_db):
    """Made at 00:30 on the 1st (pinned: that is the instant under test), the
    demo's month in progress has no sessions or work at all, none of its
    sessions ends in the future, and demo_payroll approves every completed
    month, the one that ended half an hour ago included, and only estimates
    the new one."""
    with time_machine.travel(parse_instant(instant), tick=True):
        quiet = StringIO()
        call_command(
            "seed_demo", workers=12, months=2, seed=3, password=PASSWORD, stdout=quiet
        )
        call_command("demo_payroll", stdout=quiet)
        today = timezone.localdate()
        this_month = today.replace(day=1)
        assert today.day == 1
        assert not WorkSession.objects.filter(work_date__gte=this_month).exists()
        assert not WorkRecord.objects.filter(work_date__gte=this_month).exists()
        assert not WorkSession.objects.filter(end__gt=timezone.now()).exists()
        periods = dict(PayPeriod.objects.values_list("month", "status"))
        last_month = (this_month - timedelta(days=1)).replace(day=1)
        assert periods[last_month] == "approved"
        assert periods[this_month] == "calculated"
