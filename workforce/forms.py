from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from workforce import bounds
from workforce.closing import check_open

END_BEFORE_START = _("The end must be after the start.")


class IsoDateInput(forms.DateInput):
    """A browser date picker. Its value is always ISO 8601 (2026-12-01), as
    ``<input type="date">`` requires, whatever the language's date format."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class SessionForm(forms.Form):
    """A work session entered in local time: a day, a start and an end.

    An end earlier than the start means the session ended after midnight.
    """

    day = forms.DateField(label=_("Day"), widget=IsoDateInput())
    start = forms.TimeField(
        label=_("Start"), widget=forms.TimeInput(attrs={"type": "time"})
    )
    end = forms.TimeField(
        label=_("End"), widget=forms.TimeInput(attrs={"type": "time"})
    )

    check_closed = True  # a worker's own entry stops at a closed month

    def __init__(self, *args, park, **kwargs):
        super().__init__(*args, **kwargs)
        self.park = park
        self.tz = ZoneInfo(park.time_zone)
        if not self.is_bound and "day" not in self.initial:
            self.initial["day"] = bounds.park_today(park)
        # The phone's date picker offers only the days that can be entered.
        self.fields["day"].widget.attrs.update(
            min=bounds.earliest_day(park).isoformat(),
            max=bounds.park_today(park).isoformat(),
        )

    @staticmethod
    def initial_of(session, park) -> dict:
        """A session's day, start and end in the park's time zone, to fill
        the form for a fix or a correction."""
        tz = ZoneInfo(park.time_zone)
        start = session.start.astimezone(tz)
        initial = {"day": start.date(), "start": start.time().replace(second=0)}
        if session.end:
            initial["end"] = session.end.astimezone(tz).time().replace(second=0)
        return initial

    def clean_day(self):
        """From the park's opening to its today (bounds), and not in a closed
        month (R13.5), checked here as the services check it again."""
        day = self.cleaned_data["day"]
        problem = bounds.day_error(self.park, day, bounds.SESSION_DAY)
        if problem:
            raise ValidationError(problem)
        if self.check_closed:
            check_open(park=self.park, day=day)
        return day

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        start = datetime.combine(data["day"], data["start"], tzinfo=self.tz)
        end = datetime.combine(data["day"], data["end"], tzinfo=self.tz)
        if end == start:
            raise ValidationError({"end": END_BEFORE_START})
        if end < start:
            end += timedelta(days=1)
        data["start_at"], data["end_at"] = start, end
        return data


class SessionCorrectionForm(SessionForm):
    """A staff correction of a worker's hours, with its reason. A closed
    month's session can be corrected too: the correction is recorded and the
    approved pay stays as it is (R13.5)."""

    check_closed = False
    reason = forms.CharField(label=_("Reason"), max_length=200)


class NewPasswordForm(forms.Form):
    """A director sets a temporary password for a worker without e-mail."""

    password = forms.CharField(
        label=_("New password"),
        min_length=10,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
