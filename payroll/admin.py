from django.contrib import admin

from audit.admin import AuditedAdmin
from payroll.models import (
    Adjustment,
    ApiKey,
    Client,
    PayPeriod,
    PayrollRun,
    Payslip,
    PayslipLine,
    Project,
    QualityTier,
    RateCard,
    TaskType,
    WorkerIdentity,
    WorkRecord,
)
from payroll.periods import adjustment_delete
from payroll.services import rate_card_create, work_record_delete
from workforce.closing import is_closed


@admin.register(Client)
class ClientAdmin(admin.ModelAdmin):
    list_display = ["code", "name"]


class QualityTierInline(admin.TabularInline):
    model = QualityTier
    extra = 0


@admin.register(Project)
class ProjectAdmin(AuditedAdmin):
    list_display = ["code", "name", "client", "park", "active"]
    list_filter = ["park", "client", "active"]
    inlines = [QualityTierInline]


@admin.register(TaskType)
class TaskTypeAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "unit"]


@admin.register(RateCard)
class RateCardAdmin(AuditedAdmin):
    """R3.1: cards are never edited; a new price is a new card, added through
    the same service as the pages (which closes the card in force)."""

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        card = rate_card_create(
            project=obj.project,
            task_type=obj.task_type,
            skill_level=obj.skill_level,
            rate=obj.rate,
            effective_from=obj.effective_from,
            effective_to=obj.effective_to,
            actor=request.user,
        )
        obj.pk = card.pk

    list_display = [
        "project",
        "task_type",
        "skill_level",
        "rate",
        "effective_from",
        "effective_to",
    ]
    list_filter = ["project__park", "project", "task_type", "skill_level"]


@admin.register(WorkRecord)
class WorkRecordAdmin(admin.ModelAdmin):
    list_display = [
        "external_id",
        "source",
        "worker",
        "project",
        "task_type",
        "work_date",
        "units",
        "accuracy",
    ]
    list_filter = ["source", "project"]
    search_fields = ["external_id", "worker__employee_no"]
    raw_id_fields = ["worker"]
    date_hierarchy = "work_date"
    list_select_related = ["worker", "project", "task_type"]

    # Records come from imports and the API; a wrong one is deleted through
    # the service, never in a closed month (R13.5), and never edited here.
    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        closed = obj is not None and is_closed(obj.worker.park, obj.work_date)
        return super().has_delete_permission(request, obj) and not closed

    def delete_model(self, request, obj):
        work_record_delete(record=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for record in queryset.select_related("worker__park"):
            work_record_delete(record=record, actor=request.user)


@admin.register(PayPeriod)
class PayPeriodAdmin(admin.ModelAdmin):
    list_display = [
        "park",
        "month",
        "status",
        "calculated_at",
        "approved_at",
        "paid_at",
    ]
    list_filter = ["park", "status"]
    # Status moves only through the payroll services (R13), never by hand.
    readonly_fields = [
        "status",
        "snapshot_at",
        "calculated_at",
        "approved_at",
        "approved_by",
        "paid_at",
        "error_count",
    ]


@admin.register(PayrollRun)
class PayrollRunAdmin(admin.ModelAdmin):
    list_display = [
        "period",
        "status",
        "workers_done",
        "workers_total",
        "error_count",
        "started_at",
        "finished_at",
    ]
    list_filter = ["status"]

    def has_change_permission(self, request, obj=None):
        return False


class PayslipLineInline(admin.TabularInline):
    model = PayslipLine
    extra = 0
    can_delete = False

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Payslip)
class PayslipAdmin(admin.ModelAdmin):
    list_display = ["number", "worker", "period", "taxable", "tax", "net"]
    list_filter = ["period__park", "period"]
    search_fields = ["number", "worker__employee_no"]
    raw_id_fields = ["worker"]
    inlines = [PayslipLineInline]

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Adjustment)
class AdjustmentAdmin(admin.ModelAdmin):
    list_display = [
        "worker",
        "period",
        "kind",
        "amount",
        "reason",
        "created_by",
        "created_at",
    ]
    list_filter = ["kind", "period__park"]
    raw_id_fields = ["worker"]

    # Added on the period page (adjustment_add); removed only while the
    # period is open, through the audited service (R9, R13.5).
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        locked = obj is not None and obj.period.locked
        return super().has_delete_permission(request, obj) and not locked

    def delete_model(self, request, obj):
        adjustment_delete(adjustment=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for adjustment in queryset.select_related("period__park", "worker"):
            adjustment_delete(adjustment=adjustment, actor=request.user)


@admin.register(WorkerIdentity)
class WorkerIdentityAdmin(AuditedAdmin):
    """Who a worker is in Label Studio or CVAT, for the imports."""

    list_display = ["tool", "connector", "external_user", "worker", "created_at"]
    list_filter = ["tool", "worker__park"]
    search_fields = ["external_user", "worker__employee_no", "worker__name"]
    raw_id_fields = ["worker", "connector"]
    list_select_related = ["worker", "connector"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Keys are made (and shown, once) by the director's API call; here they
    are only listed, by prefix: neither the key nor its hash is shown."""

    list_display = ["prefix", "user", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["prefix", "user__username"]
    fields = ["prefix", "user", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
