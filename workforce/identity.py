"""Identity and bank data of a worker (R17.1): checks and masking.

A resident ID number (公民身份号码, GB 11643-1999) has 18 characters: a
6-digit region code, the birth date as YYYYMMDD, a 3-digit sequence and a
check character computed with ISO 7064 MOD 11-2 (0-9 or X).

Plain functions only, no models: ``workforce.models`` uses them to validate.
"""

from __future__ import annotations

import re
from datetime import date

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

ID_FORMAT = _("A resident ID number has 17 digits and a check digit (0-9 or X).")
ID_CHECK_DIGIT = _("The check digit of this resident ID number is wrong.")
ID_BIRTH_DATE = _("This resident ID number does not hold a valid birth date.")
ID_BIRTH_YEAR = _(
    "The birth date in this resident ID number is not in the birth year on "
    "record (%(year)s)."
)
ACCOUNT_FORMAT = _("A bank account number has 8 to 30 digits.")

# The personal fields kept encrypted on the worker, in the order they show.
IDENTITY_FIELDS = ("resident_id", "bank_name", "bank_account", "account_holder")

_ID_RE = re.compile(r"\d{17}[\dX]")
_ACCOUNT_RE = re.compile(r"\d{8,30}")
_WEIGHTS = [2 ** (17 - i) % 11 for i in range(17)]
_CHECK = "10X98765432"
MASK_CHAR = "*"


def check_digit(first17: str) -> str:
    """ISO 7064 MOD 11-2 over the first 17 digits (GB 11643)."""
    return _CHECK[sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def normalize_resident_id(value: str) -> str:
    return (value or "").strip().upper()


def validate_resident_id(value: str, birth_year: int | None = None) -> None:
    """A ValidationError unless ``value`` is a well-formed resident ID number
    whose birth date is real and, when given, in ``birth_year``."""
    if not _ID_RE.fullmatch(value):
        raise ValidationError(ID_FORMAT, code="format")
    if check_digit(value[:17]) != value[17]:
        raise ValidationError(ID_CHECK_DIGIT, code="check_digit")
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise ValidationError(ID_BIRTH_DATE, code="birth_date") from None
    if birth_year is not None and born.year != birth_year:
        raise ValidationError(
            ID_BIRTH_YEAR, code="birth_year", params={"year": birth_year}
        )


def normalize_account(value: str) -> str:
    return re.sub(r"[\s-]", "", value or "")


def validate_account(value: str) -> None:
    if not _ACCOUNT_RE.fullmatch(value):
        raise ValidationError(ACCOUNT_FORMAT, code="format")


def mask(value: str | None) -> str:
    """Only the last 4 characters visible (R17.1); nothing on record: ''."""
    if not value:
        return ""
    return MASK_CHAR * max(len(value) - 4, 4) + value[-4:]
