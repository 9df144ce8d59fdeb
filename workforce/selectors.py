"""Every non-trivial read of the workforce, scoped to what the caller may see."""

from datetime import date

from django.db.models import Q, QuerySet

from workforce.models import (
    IdentityChange,
    IdentityChangeStatus,
    Park,
    PayPolicy,
    SkillPeriod,
    StaffAssignment,
    Team,
    Worker,
    WorkSession,
)


def user_roles(user) -> set[str]:
    if not user.is_authenticated:
        return set()
    cached = getattr(user, "_parkpay_roles", None)
    if cached is None:
        cached = set(user.groups.values_list("name", flat=True))
        user._parkpay_roles = cached
    return cached


def user_park_ids(user) -> list[int]:
    """Parks a staff user may see: their assignments (cached on the user)."""
    if not user.is_authenticated:
        return []
    cached = getattr(user, "_parkpay_parks", None)
    if cached is None:
        cached = list(
            StaffAssignment.objects.filter(user=user).values_list("park_id", flat=True)
        )
        user._parkpay_parks = cached
    return cached


def worker_list(*, user) -> QuerySet[Worker]:
    """Workers the user may see: their own row, or their park's as staff."""
    qs = Worker.objects.select_related("park", "team")
    if user.is_superuser:
        return qs
    roles = user_roles(user)
    if roles & {"director", "payroll_officer", "trainer"}:
        return qs.filter(park_id__in=user_park_ids(user))
    if "worker" in roles:
        return qs.filter(user=user)
    return qs.none()


def work_session_list(*, user, worker: Worker | None = None) -> QuerySet[WorkSession]:
    qs = WorkSession.objects.filter(worker__in=worker_list(user=user))
    if worker is not None:
        qs = qs.filter(worker=worker)
    return qs


def skill_level_on(*, worker: Worker, day: date) -> str | None:
    period = (
        SkillPeriod.objects.filter(worker=worker, valid_from__lte=day)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=day))
        .first()
    )
    return period.level if period else None


def pay_policy_on(*, park: Park, day: date) -> PayPolicy:
    """The park's policy in force on ``day`` (R7.1, R10: effective-dated)."""
    policy = (
        PayPolicy.objects.filter(park=park, effective_from__lte=day)
        .order_by("-effective_from")
        .first()
    )
    return policy or PayPolicy(park=park, effective_from=day)


def park_list(*, user) -> QuerySet[Park]:
    """Parks the user belongs to: a worker's own park, a staff member's
    assigned parks. A county official's parks come with the reports."""
    qs = Park.objects.all()
    if not user.is_authenticated:
        return qs.none()
    if user.is_superuser:
        return qs
    roles = user_roles(user)
    if roles & {"director", "payroll_officer", "trainer"}:
        return qs.filter(id__in=user_park_ids(user))
    if "worker" in roles:
        return qs.filter(workers__user=user)
    return qs.none()


def team_list(*, user) -> QuerySet[Team]:
    return Team.objects.select_related("park").filter(park__in=park_list(user=user))


def identity_change_list(*, user) -> QuerySet[IdentityChange]:
    """R17.1: workers' own entries of identity data the user may confirm
    or reject: the pending ones of their parks, for directors and payroll
    officers."""
    qs = IdentityChange.objects.select_related("worker", "worker__park").filter(
        status=IdentityChangeStatus.PENDING
    )
    if not user.is_authenticated:
        return qs.none()
    if user.is_superuser:
        return qs
    if not user_roles(user) & {"director", "payroll_officer"}:
        return qs.none()
    return qs.filter(worker__park_id__in=user_park_ids(user))
