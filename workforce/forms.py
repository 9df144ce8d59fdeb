from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

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

    def __init__(self, *args, tz_name: str = "Asia/Shanghai", **kwargs):
        super().__init__(*args, **kwargs)
        self.tz = ZoneInfo(tz_name)
        if not self.is_bound and "day" not in self.initial:
            self.initial["day"] = timezone.localdate()

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


class NewPasswordForm(forms.Form):
    """A director sets a temporary password for a worker without e-mail."""

    password = forms.CharField(
        label=_("New password"),
        min_length=10,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
