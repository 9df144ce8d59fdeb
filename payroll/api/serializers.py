"""What the API shows of each resource (output). Input serializers live with
the view of their operation.

No serializer names a worker's sensitive fields (ethnicity, household,
birth year, returner): they are aggregated only, never shown (DESIGN).
"""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from payroll.calculation import LINE_COLUMNS, RESULT_FIELDS
from payroll.models import (
    Adjustment,
    Client,
    PayPeriod,
    PayrollRun,
    Payslip,
    PayslipLine,
    Project,
    QualityTier,
    RateCard,
    TaskType,
    WorkCorrection,
    WorkerIdentity,
    WorkRecord,
)
from workforce.models import Park, SkillLevel, Team, Worker, WorkSession

SENSITIVE_WORKER_FIELDS = frozenset(
    {"ethnicity", "monitored_household", "birth_year", "returner"}
)


class ParkSerializer(serializers.ModelSerializer):
    class Meta:
        model = Park
        fields = ["id", "code", "name", "county", "township", "time_zone"]


class TeamSerializer(serializers.ModelSerializer):
    class Meta:
        model = Team
        fields = ["id", "park", "name"]


class WorkerSerializer(serializers.ModelSerializer):
    skill_level = serializers.SerializerMethodField()

    class Meta:
        model = Worker
        fields = [
            "id",
            "employee_no",
            "name",
            "park",
            "team",
            "gender",
            "contract",
            "hire_date",
            "leave_date",
            "insured",
            "skill_level",
        ]

    @extend_schema_field(
        serializers.ChoiceField(choices=SkillLevel.choices, allow_null=True)
    )
    def get_skill_level(self, worker) -> str | None:
        # Annotated by the view: the level of the open skill interval.
        return getattr(worker, "current_skill_level", None)


class WorkerIdentityMaskedSerializer(serializers.Serializer):
    """R17.1: identity and bank data as shown: the last 4 characters only."""

    resident_id = serializers.CharField(help_text="Masked.")
    bank_name = serializers.CharField(help_text="Masked.")
    bank_account = serializers.CharField(help_text="Masked.")
    account_holder = serializers.CharField(help_text="Masked.")
    changed = serializers.ListField(child=serializers.CharField(), required=False)


class WorkSessionSerializer(serializers.ModelSerializer):
    class Meta:
        model = WorkSession
        fields = ["id", "worker", "start", "end", "minutes", "work_date"]


class ClientSerializer(serializers.ModelSerializer):
    class Meta:
        model = Client
        fields = ["id", "code", "name"]


class ProjectSerializer(serializers.ModelSerializer):
    class Meta:
        model = Project
        fields = ["id", "code", "name", "client", "park", "active"]


class TaskTypeSerializer(serializers.ModelSerializer):
    class Meta:
        model = TaskType
        fields = ["id", "code", "name", "unit"]


class RateCardSerializer(serializers.ModelSerializer):
    class Meta:
        model = RateCard
        fields = [
            "id",
            "project",
            "task_type",
            "skill_level",
            "rate",
            "effective_from",
            "effective_to",
            "created_at",
        ]


class QualityTierSerializer(serializers.ModelSerializer):
    class Meta:
        model = QualityTier
        fields = ["id", "project", "min_accuracy", "multiplier", "label"]


class WorkRecordSerializer(serializers.ModelSerializer):
    class Meta:
        model = WorkRecord
        fields = [
            "id",
            "worker",
            "project",
            "task_type",
            "work_date",
            "units",
            "accuracy",
            "source",
            "external_id",
            "created_at",
        ]


class WorkCorrectionSerializer(serializers.ModelSerializer):
    class Meta:
        model = WorkCorrection
        fields = [
            "id",
            "record",
            "kind",
            "old_units",
            "new_units",
            "old_accuracy",
            "new_accuracy",
            "reason",
            "booked_month",
            "created_by",
            "created_at",
        ]


class CorrectionResultSerializer(serializers.Serializer):
    """What a void or correction did (R13.5): ``changed`` the record of an
    open month, ``deleted`` it, or booked ``corrections`` for a closed one."""

    outcome = serializers.ChoiceField(choices=["changed", "deleted", "booked"])
    record = WorkRecordSerializer(help_text="The record as it is now (or was).")
    corrections = WorkCorrectionSerializer(many=True)


class PayPeriodSerializer(serializers.ModelSerializer):
    class Meta:
        model = PayPeriod
        fields = [
            "id",
            "park",
            "month",
            "status",
            "snapshot_at",
            "calculated_at",
            "approved_at",
            "paid_at",
            "error_count",
        ]


class PayrollRunSerializer(serializers.ModelSerializer):
    progress = serializers.IntegerField(
        read_only=True, help_text="Per cent of the workers calculated."
    )

    class Meta:
        model = PayrollRun
        fields = [
            "id",
            "period",
            "status",
            "progress",
            "chunks_total",
            "chunks_done",
            "workers_total",
            "workers_done",
            "payslip_count",
            "error_count",
            "errors",
            "summary",
            "message",
            "created_at",
            "started_at",
            "finished_at",
        ]


class PayslipLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = PayslipLine
        fields = [c for c in LINE_COLUMNS if c != "payslip_id"]


PAYSLIP_FIELDS = [
    "id",
    "number",
    "period",
    "worker",
    "contract",
    "skill_level",
    "minutes",
    "hours",
    "units",
    "accuracy",
    *RESULT_FIELDS,  # the engine's totals, as the calculation stores them
    "warnings",
    "generated_at",
]


class PayslipSerializer(serializers.ModelSerializer):
    hours = serializers.DecimalField(max_digits=8, decimal_places=2, read_only=True)

    class Meta:
        model = Payslip
        fields = PAYSLIP_FIELDS


class PayslipDetailSerializer(PayslipSerializer):
    lines = PayslipLineSerializer(many=True, read_only=True)

    class Meta:
        model = Payslip
        fields = [*PAYSLIP_FIELDS, "lines"]


class AdjustmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Adjustment
        fields = [
            "id",
            "period",
            "worker",
            "kind",
            "amount",
            "reason",
            "created_by",
            "created_at",
        ]


class WorkerIdentitySerializer(serializers.ModelSerializer):
    class Meta:
        model = WorkerIdentity
        fields = ["id", "tool", "connector", "external_user", "worker", "created_at"]


class IntegrationSerializer(serializers.Serializer):
    """A park integration: a login of its own with one API key."""

    id = serializers.IntegerField()
    name = serializers.CharField(source="first_name")
    username = serializers.CharField()
    park = serializers.IntegerField(source="park_id")
    active = serializers.BooleanField(source="is_active")
    created_at = serializers.DateTimeField(source="date_joined")
    key_prefix = serializers.CharField(
        allow_null=True, help_text="The first characters of the key, to tell it."
    )
