"""Display helpers: money to the fen, and names of codes kept in the data."""

import functools
from datetime import date
from decimal import Decimal

from django import template
from django.template.defaultfilters import floatformat
from django.utils.formats import date_format, localize
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from payroll.models import PeriodStatus
from payroll.units import unit_label
from workforce.models import Contract, SkillLevel

register = template.Library()

TIERS = {
    "excellent": _("excellent"),
    "standard": _("standard"),
    "below_standard": _("below standard"),
    "rejected": _("rejected — rework required"),
    "pending": _("pending review"),
}
LINE_KINDS = {
    "piece": _("Piece work"),
    "late_piece": _("Late work"),
    "correction": _("Correction"),
    "topup": _("Minimum wage top-up"),
    "bonus": _("Bonus"),
    "allowance": _("Allowance"),
    "pension": _("Pension insurance"),
    "medical": _("Medical insurance"),
    "unemployment": _("Unemployment insurance"),
    "tax": _("Individual income tax"),
    "deduction": _("Deduction"),
    "carried_in": _("Carried from an earlier period"),
    "carried_forward": _("Carried to the next period"),
}
WARNINGS = {
    "day_over_11h": _("%(date)s: more than 11 hours worked in a day"),
    "month_overtime": _("More than 36 hours beyond the standard month"),
    "no_rest_day": _("A week without a rest day, up to %(date)s"),
    "part_time_week_over_24h": _(
        "More than 24 hours in the week of %(date)s (part-time)"
    ),
}


CORRECTION_OF = _("Correction of %(month)s")
PENDING_IN_LINE = _("%(tier)s, %(count)s of them pending review")
CARRIED_IN_NOTE = _(
    "%(amount)s could not be taken from your pay of %(month)s and is taken "
    "from this month's pay."
)
CARRIED_FORWARD_SI_TAX = _(
    "Social insurance and tax were larger than this month's pay; %(amount)s "
    "will be taken from your next pay."
)
CARRIED_FORWARD_DEDUCTIONS = _(
    "Deductions were larger than what was left of this month's pay; "
    "%(amount)s will be taken from your next pay."
)
CARRIED_FORWARD_EARLIER = _(
    "Amounts carried from earlier months were larger than what was left of "
    "this month's pay; %(amount)s will be taken from your next pay."
)


def carried_reason(payslip) -> str:
    """R12: which of the charges left the pay short, as a key."""
    if payslip.social_insurance + payslip.tax > payslip.taxable:
        return "si_tax"
    if payslip.deductions > 0:
        return "deductions"
    return "earlier"


@register.filter
def carried_notes(payslip, lines) -> list[str]:
    """R12 in words: what was carried in or forward on ``payslip``, and why."""
    notes = []
    if payslip.carried_in:
        month = next(
            (
                getattr(line, "ref_period", "")
                for line in lines
                if str(line.kind) == "carried_in"
            ),
            "",
        )
        notes.append(
            str(CARRIED_IN_NOTE)
            % {"amount": money(payslip.carried_in), "month": month or "—"}
        )
    if payslip.carried_forward:
        message = {
            "si_tax": CARRIED_FORWARD_SI_TAX,
            "deductions": CARRIED_FORWARD_DEDUCTIONS,
            "earlier": CARRIED_FORWARD_EARLIER,
        }[carried_reason(payslip)]
        notes.append(str(message) % {"amount": money(payslip.carried_forward)})
    return notes


@register.filter
def money(value) -> str:
    """Yuan with two decimals and thousands separators: 4,123.50."""
    if value is None or value == "":
        return "—"
    return f"{Decimal(value):,.2f}"


@register.filter
def tier_name(code: str) -> str:
    return str(TIERS.get(code, code))


@register.filter
def contract_name(code: str) -> str:
    return str(dict(Contract.choices).get(code, code))


@register.filter
def unit_name(code: str) -> str:
    return unit_label(code)


@register.filter
def skill_name(code: str) -> str:
    return str(dict(SkillLevel.choices).get(code, code or "—"))


@register.filter
def line_label(line) -> str:
    """One payslip line as a reader would say it."""
    kind = str(line.kind)
    name = str(LINE_KINDS.get(kind, kind))
    if kind in {"piece", "late_piece"}:
        parts = [line.project, line.task_type]
        label = " · ".join(p for p in parts if p)
        tier = tier_name(line.tier) if line.tier else ""
        pending = getattr(line, "pending_units", 0)
        if tier and pending and line.tier != "pending":
            tier = PENDING_IN_LINE % {"tier": tier, "count": pending}
        period = getattr(line, "ref_period", "") or getattr(line, "period", "")
        if kind == "late_piece" and period:
            label = f"{name} {period}: {label}"
        return f"{label} ({tier})" if tier else label
    if kind == "correction":
        period = getattr(line, "ref_period", "") or getattr(line, "period", "")
        parts = [line.project, line.task_type]
        if line.tier:
            parts.append(tier_name(line.tier))
        if line.reason:
            parts.append(line.reason)
        label = str(CORRECTION_OF) % {"month": period or "—"}
        return f"{label}: " + " · ".join(p for p in parts if p)
    if kind in {"bonus", "allowance", "deduction"} and line.reason:
        return f"{name}: {line.reason}"
    period = getattr(line, "ref_period", "") or getattr(line, "period", "")
    if kind == "carried_in" and period:
        return f"{name} ({period})"
    return name


@functools.lru_cache(maxsize=4096)
def _number(text: str, arg: str | None, language: str) -> str:
    """The number written ``text`` as ``{{ n|floatformat:arg }}`` shows it, or
    as ``{{ n }}`` does without ``arg``, in ``language`` (the active one).

    The same rates, multipliers and quantities recur on every payslip, and
    Django's formatting of one costs tens of microseconds.
    """
    value = Decimal(text)
    return str(localize(value) if arg is None else floatformat(value, arg))


@functools.lru_cache(maxsize=1024)
def _day(day: date, language: str) -> str:
    """``{{ day|date:"m-d D" }}`` in ``language`` (the active one)."""
    return date_format(day, "m-d D")


@register.filter
def year_month(day: date) -> str:
    """``{{ day|date:"Y-m" }}`` without the cost of Django's date formatting
    (a month picker shows a dozen months twice over)."""
    return f"{day.year:04d}-{day.month:02d}"


@register.filter
def line_rows(lines) -> list[tuple[str, str, str, str, str, str]]:
    """The cells of payslip lines (kind, item, quantity, rate, multiplier,
    amount) as text, formatted as the template filters would (``line_label``,
    ``floatformat:"-2"`` with the unit, ``floatformat:"-4"``, ``money``).

    A payslip has dozens of lines; formatting them here costs a fraction of
    doing it cell by cell in the template. The text is escaped where shown.
    """
    language = get_language()
    rows = []
    for line in lines:
        quantity = rate = multiplier = ""
        if line.quantity is not None:
            quantity = _number(str(line.quantity), "-2", language)
            if line.unit:
                quantity = f"{quantity} {unit_label(line.unit)}"
        if line.rate is not None:
            rate = _number(str(line.rate), "-4", language)
        if line.multiplier is not None:
            multiplier = _number(str(line.multiplier), None, language)
        rows.append(
            (
                str(line.kind),
                line_label(line),
                quantity,
                rate,
                multiplier,
                money(line.amount),
            )
        )
    return rows


@register.filter
def day_rows(by_day) -> list[tuple[str, int, str]]:
    """(day as ``date:"m-d D"``, units, pay as ``money``) of an estimate's days,
    latest first, formatted once here rather than cell by cell in the template."""
    language = get_language()
    return [
        (_day(day, language), units, money(pay)) for day, units, pay in by_day[::-1]
    ]


@register.filter
def warning_text(warning: dict) -> str:
    template_text = WARNINGS.get(warning.get("code"))
    if template_text is None:
        return str(warning.get("code"))
    return str(template_text) % {"date": warning.get("date", "")}


@register.filter
def hours(minutes) -> str:
    """Minutes shown as hours with two decimals (R2.1)."""
    if minutes is None:
        return "—"
    return f"{Decimal(minutes) / 60:.2f}"


@register.filter
def period_status(code: str) -> str:
    return str(dict(PeriodStatus.choices).get(code, code))
