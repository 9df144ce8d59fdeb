"""R17.3: certificates of income (收入证明) over a worker's paid months.

A certificate is issued by the worker herself or by her park's director or
payroll officer, for a span of months each of which she was paid in (her
payslip of a period marked paid). Its figures are copied from the payslips at
issue and signed with the server's key, so the record cannot be changed
without the signature showing it. Anybody holding its code may verify it on
the public page, which shows only whether it is valid, the park, the span, the
totals and the holder's name masked.
"""

from __future__ import annotations

import base64
import hmac
import json
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from audit.services import audit_record
from payroll.integrations import has_park_role
from payroll.models import IncomeCertificate, Payslip, PeriodStatus
from workforce.models import Worker

MAX_MONTHS = 12
CODE_BYTES = 16  # 128 random bits
CODE_LENGTH = 26  # their base32 spelling, without padding
_CODE_RE = re.compile(f"[A-Z2-7]{{{CODE_LENGTH}}}")
_SIGNING_SALT = "parkpay.payroll.income-certificate"
ISSUE_ROLES = {"director", "payroll_officer"}

SPAN_ORDER = _("The first month of the span must not be after its last month.")
SPAN_TOO_LONG = _("A certificate covers at most %(count)s months.")
MONTH_NOT_PAID = _(
    "%(month)s cannot be certified: there is no payslip of a paid month for it."
)
NOT_YOURS = _("You can only issue a certificate for yourself or your park's workers.")
REVOKE_STAFF_ONLY = _("Only the park's director or payroll officer can revoke.")
REVOKE_REASON = _("Give the reason for revoking the certificate.")
ALREADY_REVOKED = _("This certificate has already been revoked.")


class Status:
    VALID = "valid"
    REVOKED = "revoked"
    INVALID = "invalid"


def new_code() -> str:
    return base64.b32encode(secrets.token_bytes(CODE_BYTES)).decode()[:CODE_LENGTH]


def normalize_code(value: str | None) -> str:
    """A code as typed (any case, spaces or dashes between groups)."""
    return re.sub(r"[\s-]", "", value or "").upper()[:64]


def grouped_code(code: str) -> str:
    """The code in groups of four, as printed: ``ABCD-EFGH-…``."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def mask_name(name: str) -> str:
    """First and last character kept: 王小明 → 王*明, 李明 → 李*."""
    name = (name or "").strip()
    if len(name) <= 1:
        return "*"
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def _month_key(day: date) -> str:
    return f"{day:%Y-%m}"


def _months(start: date, end: date) -> list[date]:
    found, day = [], start
    while day <= end:
        found.append(day)
        day = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return found


def _content(cert: IncomeCertificate) -> str:
    """What the signature covers, in one canonical spelling."""
    issued = cert.issued_at.astimezone(UTC) if cert.issued_at else None
    return json.dumps(
        {
            "code": cert.code,
            "park": cert.park_id,
            "park_name": cert.park_name,
            "worker": cert.worker_id,
            "name": cert.holder_name,
            "employed_from": str(cert.employed_from),
            "employed_until": str(cert.employed_until or ""),
            "from": str(cert.span_start),
            "to": str(cert.span_end),
            "months": cert.months,
            "gross": str(Decimal(cert.total_gross).quantize(Decimal("0.01"))),
            "net": str(Decimal(cert.total_net).quantize(Decimal("0.01"))),
            "issued_at": issued.isoformat() if issued else "",
        },
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )


def certificate_digest(cert: IncomeCertificate) -> str:
    return salted_hmac(_SIGNING_SALT, _content(cert), algorithm="sha256").hexdigest()


def certified_payslips(*, worker: Worker, span_start: date, span_end: date):
    """The worker's payslips of paid periods in the span, by month; a
    ValidationError naming the first month of the span that is not paid."""
    start, end = span_start.replace(day=1), span_end.replace(day=1)
    if start > end:
        raise ValidationError({"span_start": SPAN_ORDER})
    wanted = _months(start, end)
    if len(wanted) > MAX_MONTHS:
        raise ValidationError(
            {"span_end": ValidationError(SPAN_TOO_LONG, params={"count": MAX_MONTHS})}
        )
    slips = {
        slip.period.month: slip
        for slip in Payslip.objects.filter(
            worker=worker,
            period__status=PeriodStatus.PAID,
            period__month__gte=start,
            period__month__lte=end,
        )
        .select_related("period")
        .only("number", "taxable", "net", "period__month")
    }
    for month in wanted:
        if month not in slips:
            raise ValidationError(
                {
                    "span_end": ValidationError(
                        MONTH_NOT_PAID, params={"month": _month_key(month)}
                    )
                }
            )
    return [slips[m] for m in wanted]


def _may_issue(actor, worker: Worker) -> bool:
    if actor is None:
        return True  # the command line and the demo seeder
    if worker.user_id is not None and worker.user_id == actor.pk:
        return True
    return has_park_role(actor, worker.park_id, ISSUE_ROLES)


@transaction.atomic
def certificate_issue(
    *, worker: Worker, span_start: date, span_end: date, actor
) -> IncomeCertificate:
    """R17.3: a certificate of the worker's pay over the paid months of the
    span, its figures copied from the payslips and signed; audited."""
    if not _may_issue(actor, worker):
        raise PermissionDenied(NOT_YOURS)
    slips = certified_payslips(worker=worker, span_start=span_start, span_end=span_end)
    park = worker.park
    months = [
        {
            "month": _month_key(s.period.month),
            "payslip": s.number,
            "gross": str(s.taxable),
            "net": str(s.net),
        }
        for s in slips
    ]
    cert = IncomeCertificate(
        code=new_code(),
        park=park,
        worker=worker,
        holder_name=worker.name,
        park_name=park.name,
        employed_from=worker.hire_date,
        employed_until=worker.leave_date,
        span_start=slips[0].period.month,
        span_end=slips[-1].period.month,
        months=months,
        total_gross=sum((s.taxable for s in slips), Decimal("0.00")),
        total_net=sum((s.net for s in slips), Decimal("0.00")),
        issued_at=timezone.now().replace(microsecond=0),
        issued_by=actor if getattr(actor, "pk", None) else None,
    )
    cert.digest = certificate_digest(cert)
    cert.full_clean()
    cert.save()
    audit_record(
        actor=actor,
        park=park,
        action="certificate.issue",
        obj=cert,
        after={
            "worker": worker.employee_no,
            "from": _month_key(cert.span_start),
            "to": _month_key(cert.span_end),
            "months": len(months),
            "total_gross": cert.total_gross,
            "total_net": cert.total_net,
        },
    )
    return cert


@transaction.atomic
def certificate_revoke(
    *, certificate: IncomeCertificate, actor, reason: str
) -> IncomeCertificate:
    """R17.3: a certificate withdrawn by the park's pay staff; it no longer
    verifies. Audited with the reason."""
    cert = IncomeCertificate.objects.select_for_update().get(pk=certificate.pk)
    if actor is not None and not has_park_role(actor, cert.park_id, ISSUE_ROLES):
        raise PermissionDenied(REVOKE_STAFF_ONLY)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": REVOKE_REASON})
    if cert.revoked_at is not None:
        raise ValidationError(ALREADY_REVOKED)
    cert.revoked_at = timezone.now()
    cert.revoked_by = actor if getattr(actor, "pk", None) else None
    cert.revoke_reason = reason[:200]
    cert.save(update_fields=["revoked_at", "revoked_by", "revoke_reason"])
    audit_record(
        actor=actor,
        park=cert.park,
        action="certificate.revoke",
        obj=cert,
        after={"reason": cert.revoke_reason},
    )
    return cert


@dataclass(frozen=True)
class Verification:
    """What the public page may show, and nothing more."""

    status: str
    park: str = ""
    span_start: date | None = None
    span_end: date | None = None
    total_gross: Decimal | None = None
    total_net: Decimal | None = None
    masked_name: str = ""
    revoked_at: datetime | None = None


INVALID = Verification(status=Status.INVALID)


def certificate_verify(code: str | None) -> Verification:
    """R17.3: valid, revoked or invalid. A code that is not on record, a
    record whose figures no longer match its signature: invalid, with nothing
    else said."""
    code = normalize_code(code)
    if not _CODE_RE.fullmatch(code):
        return INVALID
    cert = IncomeCertificate.objects.select_related(None).filter(code=code).first()
    if cert is None:
        # Spend the time of a check anyway.
        hmac.compare_digest(code, new_code())
        return INVALID
    if not (
        hmac.compare_digest(cert.code.encode(), code.encode())
        and hmac.compare_digest(cert.digest.encode(), certificate_digest(cert).encode())
    ):
        return INVALID
    if cert.revoked_at is not None:
        return Verification(
            status=Status.REVOKED,
            park=cert.park_name,
            span_start=cert.span_start,
            span_end=cert.span_end,
            revoked_at=cert.revoked_at,
        )
    return Verification(
        status=Status.VALID,
        park=cert.park_name,
        span_start=cert.span_start,
        span_end=cert.span_end,
        total_gross=cert.total_gross,
        total_net=cert.total_net,
        masked_name=mask_name(cert.holder_name),
    )
