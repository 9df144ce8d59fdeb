"""Display helpers: money to the fen, and names of codes kept in the data."""

from decimal import Decimal

from django import template
from django.utils.translation import gettext_lazy as _

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
        period = getattr(line, "ref_period", "") or getattr(line, "period", "")
        if kind == "late_piece" and period:
            label = f"{name} {period}: {label}"
        return f"{label} ({tier})" if tier else label
    if kind in {"bonus", "allowance", "deduction"} and line.reason:
        return f"{name}: {line.reason}"
    period = getattr(line, "ref_period", "") or getattr(line, "period", "")
    if kind == "carried_in" and period:
        return f"{name} ({period})"
    return name


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
    from payroll.models import PeriodStatus

    return str(dict(PeriodStatus.choices).get(code, code))
