from django.contrib import admin

from payroll.audit import AuditedAdmin
from workforce.models import (
    Park,
    PayPolicy,
    SkillPeriod,
    StaffAssignment,
    Team,
    Worker,
    WorkSession,
)


class PayPolicyInline(admin.TabularInline):
    model = PayPolicy
    extra = 0


@admin.register(Park)
class ParkAdmin(AuditedAdmin):
    list_display = ["code", "name", "county", "township", "time_zone", "require_2fa"]
    search_fields = ["code", "name", "county", "township"]
    inlines = [PayPolicyInline]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "park"]
    list_filter = ["park"]


class SkillPeriodInline(admin.TabularInline):
    model = SkillPeriod
    extra = 0


@admin.register(Worker)
class WorkerAdmin(AuditedAdmin):
    list_display = [
        "employee_no",
        "name",
        "park",
        "team",
        "contract",
        "hire_date",
        "leave_date",
    ]
    list_filter = ["park", "contract", "team"]
    search_fields = ["employee_no", "name"]
    raw_id_fields = ["user"]
    list_select_related = ["park", "team"]
    inlines = [SkillPeriodInline]


@admin.register(WorkSession)
class WorkSessionAdmin(admin.ModelAdmin):
    list_display = ["worker", "start", "end", "minutes", "work_date"]
    list_filter = ["worker__park"]
    search_fields = ["worker__employee_no", "worker__name"]
    raw_id_fields = ["worker"]
    date_hierarchy = "work_date"
    list_select_related = ["worker"]


@admin.register(StaffAssignment)
class StaffAssignmentAdmin(admin.ModelAdmin):
    list_display = ["user", "park", "created_at"]
    list_filter = ["park"]
    raw_id_fields = ["user"]
