"""Audit events in words: what happened to which kind of object, and the
values before and after, for the people who read the audit page.

Actions are stored as ``<object>.<verb>`` codes (``period.approve``); the
object's name comes from the model's own verbose name, so a new model needs
no entry here, only a new verb does.
"""

import functools
import re
from decimal import Decimal, InvalidOperation

from django.apps import apps
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

VERBS = {
    "add": pgettext_lazy("audit", "added"),
    "approve": pgettext_lazy("audit", "approved"),
    "confirm": pgettext_lazy("audit", "confirmed"),
    "reject": pgettext_lazy("audit", "rejected"),
    "submit": pgettext_lazy("audit", "entered"),
    "bank_layout": pgettext_lazy("audit", "bank file layout chosen"),
    "calculate": pgettext_lazy("audit", "calculation started"),
    "calculated": pgettext_lazy("audit", "calculated"),
    "change": pgettext_lazy("audit", "changed"),
    "create": pgettext_lazy("audit", "created"),
    "delete": pgettext_lazy("audit", "deleted"),
    "import": pgettext_lazy("audit", "imported"),
    "issue": pgettext_lazy("audit", "issued"),
    "paid": pgettext_lazy("audit", "marked paid"),
    "password_set": pgettext_lazy("audit", "password set"),
    "pdf": pgettext_lazy("audit", "PDF made"),
    "qualified": pgettext_lazy("audit", "qualified"),
    "revoke": pgettext_lazy("audit", "revoked"),
    "void": pgettext_lazy("audit", "voided"),
    "correct": pgettext_lazy("audit", "corrected"),
}
# Codes whose first part is not a model's name.
OBJECTS = {
    "period": _("pay period"),
    "rate_card": _("rate card"),
    "work": _("work"),
    "work_record": _("work record"),
    "integration": _("integration"),
    "identity": _("annotator mapping"),
    "certificate": _("income certificate"),
    "identity_change": _("identity data change"),
}
KEYS = {
    "gross": _("gross pay"),
    "net": _("net pay"),
    "payslips": _("payslips"),
    "errors": _("errors"),
    "workers": _("workers"),
    "status": _("status"),
    "worker": _("worker"),
    "rendered": _("files made"),
    "records": _("records"),
    "from": _("from (month)"),
    "to": _("to (month)"),
    "months": _("months"),
    "total_gross": _("total gross pay"),
    "total_net": _("total net pay"),
    "reason": _("reason"),
    "bank_layout": _("bank file layout"),
    "fields": _("fields"),
    "changed": _("changed"),
    "replaced": _("replaced"),
    # Foreign keys named after their model, without a verbose name of their own.
    "project": _("Project"),
    "task_type": _("Task type"),
}
_NUMBER = re.compile(r"-?\d+\.\d+")


def _model_name(code: str):
    code = code.replace("_", "")
    for model in apps.get_models():
        if model._meta.model_name == code:
            return model._meta.verbose_name
    return None


def object_label(code: str) -> str:
    """``payperiod`` or ``period`` → "pay period", in the reader's language."""
    return str(OBJECTS.get(code) or _model_name(code) or code.replace("_", " "))


def action_label(action: str) -> str:
    """``period.approve`` → "pay period approved"."""
    subject, _dot, verb = action.partition(".")
    verb_label = VERBS.get(verb, verb.replace("_", " "))
    return f"{object_label(subject)} {verb_label}".strip()


def value_text(value) -> str:
    """A stored value as people write it: 38653.1900000000 → 38653.19."""
    if isinstance(value, str) and _NUMBER.fullmatch(value):
        try:
            number = Decimal(value)
        except InvalidOperation:
            return value
        exponent = number.normalize().as_tuple().exponent
        places = max(2, -exponent) if isinstance(exponent, int) else 2
        return f"{number:.{min(places, 4)}f}"
    if isinstance(value, float):
        return value_text(repr(value))
    if value is None:
        return "—"
    return str(value)


@functools.cache
def _fields() -> dict[str, tuple[str, dict]]:
    """Field name → (verbose name, choice labels) over every model: a key of
    an audit entry is usually the name of the field it records."""
    found: dict[str, tuple[str, dict]] = {}
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if not hasattr(field, "verbose_name"):
                continue
            verbose, choices = found.get(field.name, (field.verbose_name, {}))
            # Fields of one name share their choices (a period's and a run's
            # status); the first model's verbose name is kept.
            for value, label in getattr(field, "flatchoices", None) or ():
                choices.setdefault(value, label)
            found[field.name] = (verbose, choices)
    return found


def changes_text(values: dict | None) -> list[tuple[str, str]]:
    """(label, value) pairs of a before/after dict; a key that names a field
    takes the field's name, a value that is one of its choices the choice's
    (``status: calculated`` → 状态: 已计算)."""
    if not values:
        return []
    fields = _fields()
    pairs = []
    for k, v in values.items():
        verbose, choices = fields.get(k, (None, {}))
        label = KEYS.get(k) or verbose or k.replace("_", " ")
        known = isinstance(v, str) and v in choices
        text = str(choices[v]) if known else value_text(v)
        pairs.append((str(label), text))
    return pairs
