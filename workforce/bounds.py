"""The bounds of what can be entered, named once for every entry point.

Model ``clean()``, services, forms, serializers and imports all ask these
functions, so a page, the API and a file refuse the same values with the same
message (naming the field and the allowed range). Nothing here reads the
database: a park's bounds come from the park and its policy rows.
"""

from datetime import date, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

# Before a park has an opening date, nothing is dated earlier than this.
EARLIEST_DAY = date(2000, 1, 1)
MAX_UNITS = 1_000_000  # per work record, exclusive
DEFAULT_MAX_RATE = Decimal("1000.0000")  # yuan per unit, a policy default
RATE_CARD_AHEAD = timedelta(days=366)  # how far ahead a new price may start

DAY_OUT_OF_RANGE = _("%(field)s must be between %(first)s and %(last)s.")
UNITS_OUT_OF_RANGE = _("Units must be a whole number from 1 to %(last)s.")
RATE_OUT_OF_RANGE = _(
    "The rate must be above 0 and at most %(last)s yuan per unit (the park's policy)."
)
MONTH_OUT_OF_RANGE = _("The month must be between %(first)s and %(last)s.")
# Formatted when shown, in the language of the request (a model validator's
# message is made once, at import).
UNITS_VALIDATOR_MESSAGE = lazy(
    lambda: str(UNITS_OUT_OF_RANGE % {"last": f"{MAX_UNITS - 1:,}"}), str
)()

WORK_DATE = _("The work date")
SESSION_DAY = _("The day of a session")
EFFECTIVE_FROM = _("The start of a rate card")


def earliest_day(park) -> date:
    """The first day anything can be dated at ``park``: its opening."""
    return getattr(park, "opened_on", None) or EARLIEST_DAY


def park_today(park) -> date:
    """Today in the park's time zone."""
    return timezone.now().astimezone(ZoneInfo(park.time_zone)).date()


def day_error(park, day: date, field=WORK_DATE) -> str | None:
    """A work date or session day: from the park's opening to its today."""
    first, last = earliest_day(park), park_today(park)
    if first <= day <= last:
        return None
    return DAY_OUT_OF_RANGE % {"field": field, "first": first, "last": last}


def units_error(units) -> str | None:
    if isinstance(units, int) and not 1 <= units <= MAX_UNITS - 1:
        return UNITS_OUT_OF_RANGE % {"last": f"{MAX_UNITS - 1:,}"}
    return None


def validate_units(units) -> None:
    """The model field's validator of :func:`units_error`."""
    problem = units_error(units)
    if problem:
        raise ValidationError(problem)


def rate_error(rate: Decimal, max_rate: Decimal | None = None) -> str | None:
    """A rate per unit: above 0, at most the park's policy maximum."""
    last = max_rate if max_rate is not None else DEFAULT_MAX_RATE
    if rate is not None and not Decimal(0) < rate <= last:
        return RATE_OUT_OF_RANGE % {"last": last}
    return None


def effective_from_error(park, day: date) -> str | None:
    """A new price starts after the park opened and at most a year ahead."""
    first, last = earliest_day(park), park_today(park) + RATE_CARD_AHEAD
    if first <= day <= last:
        return None
    return DAY_OUT_OF_RANGE % {"field": EFFECTIVE_FROM, "first": first, "last": last}


def month_range(parks=()) -> tuple[date, date]:
    """Months a page or the API may ask for about ``parks``: from the earliest
    period (the month the earliest of them opened, since nothing is dated
    before a park's opening) to December of next year. Without parks, from
    the month of :data:`EARLIEST_DAY`."""
    today = timezone.localdate()
    openings = [earliest_day(park) for park in parks]
    first = min(openings) if openings else EARLIEST_DAY
    return first.replace(day=1), date(today.year + 1, 12, 1)


def month_error(month: date, parks=()) -> str | None:
    first, last = month_range(parks)
    if first <= month <= last:
        return None
    return MONTH_OUT_OF_RANGE % {"first": f"{first:%Y-%m}", "last": f"{last:%Y-%m}"}
