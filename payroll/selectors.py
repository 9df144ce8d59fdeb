"""Every non-trivial read of payroll data, scoped to what the caller may see.

A worker sees their own rows; park staff (director, payroll officer, trainer)
see their parks' rows; a county official sees no person's row at all (only the
aggregates of ``reports.county``).
"""

from django.db.models import QuerySet

from payroll.models import (
    Adjustment,
    IncomeCertificate,
    PayPeriod,
    PayrollRun,
    Payslip,
    Project,
    QualityTier,
    RateCard,
    WorkCorrection,
    WorkRecord,
)
from workforce.selectors import user_park_ids, user_roles

PARK_STAFF = {"director", "payroll_officer", "trainer"}
PAY_STAFF = {"director", "payroll_officer"}


def _scope(qs: QuerySet, user, *, park_path: str, worker_path: str | None):
    """Filter ``qs`` to the user's own rows or their parks' rows."""
    if not user.is_authenticated:
        return qs.none()
    if user.is_superuser:
        return qs
    roles = user_roles(user)
    if roles & PARK_STAFF:
        return qs.filter(**{f"{park_path}__in": user_park_ids(user)})
    if "worker" in roles and worker_path is not None:
        return qs.filter(**{f"{worker_path}__user": user})
    return qs.none()


def period_list(*, user, park_id: int | None = None) -> QuerySet[PayPeriod]:
    qs = PayPeriod.objects.select_related("park")
    if not user.is_superuser and not (user_roles(user) & PARK_STAFF):
        # Workers see the periods they have payslips in.
        qs = (
            qs.filter(payslips__worker__user=user).distinct()
            if user.is_authenticated
            else qs.none()
        )
    else:
        qs = _scope(qs, user, park_path="park", worker_path=None)
    if park_id is not None:
        qs = qs.filter(park_id=park_id)
    return qs.order_by("-month", "park__code")


def run_list(*, user) -> QuerySet[PayrollRun]:
    qs = PayrollRun.objects.select_related("period__park")
    if not (user.is_superuser or user_roles(user) & PAY_STAFF):
        return qs.none()
    return _scope(qs, user, park_path="period__park", worker_path=None)


def _pay_scope(qs: QuerySet, user, *, park_path: str) -> QuerySet:
    """Pay is seen by its worker and the park's pay staff; trainers see none."""
    if user.is_authenticated and not user.is_superuser:
        roles = user_roles(user)
        if "trainer" in roles and not roles & PAY_STAFF:
            return qs.filter(worker__user=user) if "worker" in roles else qs.none()
    return _scope(qs, user, park_path=park_path, worker_path="worker")


def payslip_list(*, user, period: PayPeriod | None = None) -> QuerySet[Payslip]:
    qs = Payslip.objects.select_related("worker", "period__park")
    qs = _pay_scope(qs, user, park_path="period__park")
    if period is not None:
        qs = qs.filter(period=period)
    return qs


def payslip_get(*, user, pk: int) -> Payslip:
    """One payslip with its lines; another person's answers DoesNotExist (404)."""
    return payslip_list(user=user).prefetch_related("lines").get(pk=pk)


def work_record_list(*, user) -> QuerySet[WorkRecord]:
    qs = WorkRecord.objects.select_related("worker", "project", "task_type")
    return _scope(qs, user, park_path="worker__park", worker_path="worker")


def adjustment_list(*, user) -> QuerySet[Adjustment]:
    qs = Adjustment.objects.select_related("worker", "period__park", "created_by")
    return _pay_scope(qs, user, park_path="period__park")


def project_list(*, user) -> QuerySet[Project]:
    qs = Project.objects.select_related("client", "park")
    if not user.is_authenticated:
        return qs.none()
    if user.is_superuser:
        return qs
    if user_roles(user) & PARK_STAFF:
        return qs.filter(park_id__in=user_park_ids(user))
    if "worker" in user_roles(user):
        return qs.filter(park__workers__user=user)
    return qs.none()


def rate_card_list(*, user) -> QuerySet[RateCard]:
    return RateCard.objects.select_related("project", "task_type").filter(
        project__in=project_list(user=user)
    )


def quality_tier_list(*, user) -> QuerySet[QualityTier]:
    return QualityTier.objects.select_related("project").filter(
        project__in=project_list(user=user)
    )


def correction_list(*, user) -> QuerySet[WorkCorrection]:
    """Corrections of work records (R13.5), for the park's pay staff; a worker
    reads theirs as payslip lines."""
    qs = WorkCorrection.objects.select_related(
        "record__worker", "record__project", "record__task_type", "created_by"
    )
    if not (
        user.is_authenticated and (user.is_superuser or user_roles(user) & PAY_STAFF)
    ):
        return qs.none()
    return _scope(qs, user, park_path="record__worker__park", worker_path=None)


def certificate_list(*, user) -> QuerySet[IncomeCertificate]:
    """Certificates of income (R17.3): a worker's own, her park's for its pay
    staff; trainers and county officials see none."""
    qs = IncomeCertificate.objects.select_related("worker", "park", "issued_by")
    return _pay_scope(qs, user, park_path="park")
