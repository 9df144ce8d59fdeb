"""Filters of the list endpoints (django-filter). Every filter narrows a
queryset that the selectors scoped already."""

import django_filters as filters
from django import forms
from django.db.models import Q
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from payroll.models import (
    Adjustment,
    PayPeriod,
    PayrollRun,
    Payslip,
    Project,
    QualityTier,
    RateCard,
    WorkerIdentity,
    WorkRecord,
)
from workforce.models import Team, Worker, WorkSession

MAX_ID = 2**63 - 1


@extend_schema_field(OpenApiTypes.INT64)
class IdFilter(filters.NumberFilter):
    field_class = forms.IntegerField


def ref(name: str):
    """A filter on a foreign key by id, answering the same whether or not
    the id exists elsewhere (a ModelChoiceFilter would tell)."""
    return IdFilter(
        field_name=f"{name}_id", label=f"{name} id", min_value=1, max_value=MAX_ID
    )


class TeamFilter(filters.FilterSet):
    park = ref("park")

    class Meta:
        model = Team
        fields = ["park"]


class WorkerFilter(filters.FilterSet):
    park = ref("park")
    team = ref("team")
    employed_on = filters.DateFilter(
        method="filter_employed_on", label="Employed on this day"
    )

    class Meta:
        model = Worker
        fields = ["park", "team", "contract", "gender", "employee_no"]

    def filter_employed_on(self, queryset, name, value):
        return queryset.filter(hire_date__lte=value).filter(
            Q(leave_date__isnull=True) | Q(leave_date__gte=value)
        )


class WorkSessionFilter(filters.FilterSet):
    worker = ref("worker")
    work_date = filters.DateFromToRangeFilter()

    class Meta:
        model = WorkSession
        fields = ["worker", "work_date"]


class ProjectFilter(filters.FilterSet):
    park = ref("park")
    client = ref("client")

    class Meta:
        model = Project
        fields = ["park", "client", "active", "code"]


class RateCardFilter(filters.FilterSet):
    project = ref("project")
    task_type = ref("task_type")
    valid_on = filters.DateFilter(method="filter_valid_on", label="Valid on this day")

    class Meta:
        model = RateCard
        fields = ["project", "task_type", "skill_level"]

    def filter_valid_on(self, queryset, name, value):
        return queryset.filter(effective_from__lte=value).filter(
            Q(effective_to__isnull=True) | Q(effective_to__gt=value)
        )


class QualityTierFilter(filters.FilterSet):
    project = ref("project")

    class Meta:
        model = QualityTier
        fields = ["project"]


class WorkRecordFilter(filters.FilterSet):
    worker = ref("worker")
    project = ref("project")
    task_type = ref("task_type")
    work_date = filters.DateFromToRangeFilter()

    class Meta:
        model = WorkRecord
        fields = [
            "worker",
            "project",
            "task_type",
            "work_date",
            "source",
            "external_id",
        ]


class PayPeriodFilter(filters.FilterSet):
    park = ref("park")

    class Meta:
        model = PayPeriod
        fields = ["park", "month", "status"]


class PayrollRunFilter(filters.FilterSet):
    period = ref("period")

    class Meta:
        model = PayrollRun
        fields = ["period", "status"]


class PayslipFilter(filters.FilterSet):
    period = ref("period")
    worker = ref("worker")

    class Meta:
        model = Payslip
        fields = ["period", "worker"]


class AdjustmentFilter(filters.FilterSet):
    period = ref("period")
    worker = ref("worker")

    class Meta:
        model = Adjustment
        fields = ["period", "worker", "kind"]


class WorkerIdentityFilter(filters.FilterSet):
    worker = ref("worker")

    class Meta:
        model = WorkerIdentity
        fields = ["tool", "worker", "external_user"]
