"""Closed months (R13.5): once a period is approved, its inputs are frozen.

The park keeps the last day of its latest approved month (``closed_through``),
set by payroll's approval (workforce knows nothing of pay periods). Every
service that creates, changes or deletes a work session, a work record or an
adjustment asks :func:`check_open` first, so pages, the API, imports and the
admin all meet the same rule.
"""

from datetime import date

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from workforce.models import Park

MONTH_CLOSED = _(
    "The pay of %(month)s is approved and the month is closed: its work, hours "
    "and adjustments can no longer be added, changed or deleted. Ask the park's "
    "director to correct it in the next month."
)


def closed_through(park: Park, *, lock: bool = False) -> date | None:
    """The park's last closed day, read afresh (``lock``: and held until the
    transaction ends, so an approval cannot slip in between check and write)."""
    parks = Park.objects.filter(pk=park.pk)
    if lock:
        parks = parks.select_for_update(no_key=True)
    return parks.values_list("closed_through", flat=True).first()


def is_closed(park: Park, day: date, *, lock: bool = False) -> bool:
    last = closed_through(park, lock=lock)
    return last is not None and day <= last


def check_open(*, park: Park, day: date, field: str | None = None, lock=False):
    """Refuse a write dated ``day`` in a closed month (R13.5)."""
    if is_closed(park, day, lock=lock):
        message = MONTH_CLOSED % {"month": f"{day:%Y-%m}"}
        raise ValidationError({field: message} if field else message)


def park_close_through(*, park: Park, day: date) -> None:
    """Close the park's months up to ``day`` (only ever moves forward)."""
    current = closed_through(park, lock=True)
    if current is None or current < day:
        Park.objects.filter(pk=park.pk).update(closed_through=day)
        park.closed_through = day
