from zoneinfo import ZoneInfo

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _

from audit.admin import AuditedAdmin
from workforce.closing import MONTH_CLOSED, is_closed
from workforce.identity import IDENTITY_FIELDS
from workforce.models import (
    Park,
    PayPolicy,
    SkillPeriod,
    SpecialDeduction,
    StaffAssignment,
    Team,
    Worker,
    WorkSession,
)
from workforce.services import (
    insured_by_contract,
    work_session_check_overlap,
    work_session_delete,
    work_session_log,
    work_session_update,
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


KEEP_IF_EMPTY = _("On record (masked). Leave empty to keep it.")


class HiddenValueInput(forms.TextInput):
    """A text input that never renders the value it holds."""

    def format_value(self, value):
        return None


class SpecialDeductionInline(admin.TabularInline):
    """R11.2: amounts per category, each from the first of a month."""

    model = SpecialDeduction
    extra = 0
    fields = ["category", "monthly_amount", "valid_from"]


INSURED_CHOICES = [
    ("", _("as the contract says (full-time: insured)")),
    ("yes", _("insured")),
    ("no", _("not insured")),
]


class WorkerForm(forms.ModelForm):
    """``insured`` is a choice, so leaving it open can follow the contract."""

    insured = forms.TypedChoiceField(
        label=_("social insurance"),
        choices=INSURED_CHOICES,
        coerce=lambda value: value == "yes",
        empty_value=None,
        required=False,
    )

    class Meta:
        model = Worker
        fields = "__all__"  # noqa: DJ007 - the admin lists the fields

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["insured"] = "yes" if self.instance.insured else "no"
        # R17.1: identity and bank data are never sent back to the browser;
        # the field shows the masked value on record, and left empty keeps it.
        masked = self.instance.identity_masked()
        for name in IDENTITY_FIELDS:
            field = self.fields[name]
            field.widget = HiddenValueInput(attrs={"placeholder": masked[name]})
            field.help_text = KEEP_IF_EMPTY if masked[name] else ""
            self.initial.pop(name, None)

    def clean(self):
        data = super().clean()
        for name in IDENTITY_FIELDS:
            if not data.get(name):
                data[name] = getattr(self.instance, name)
        return self._clean_insured(data)

    def _clean_insured(self, data):
        contract = data.get("contract")
        chose = "insured" in self.changed_data and data.get("insured") is not None
        contract_changed = not self.instance.pk or "contract" in self.changed_data
        if contract and not chose and contract_changed:
            # R10.1: no explicit choice on a new worker or a new contract.
            data["insured"] = insured_by_contract(contract)
        elif data.get("insured") is None:
            data["insured"] = self.instance.insured
        self.instance.insured = data["insured"]
        return data


@admin.register(Worker)
class WorkerAdmin(AuditedAdmin):
    form = WorkerForm
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
    inlines = [SkillPeriodInline, SpecialDeductionInline]
    readonly_fields = ["identity_on_record"]

    @admin.display(description=_("identity and bank data on record"))
    def identity_on_record(self, obj):
        masked = obj.identity_masked() if obj else {}
        return " / ".join(v for v in masked.values() if v) or "-"


class WorkSessionForm(forms.ModelForm):
    class Meta:
        model = WorkSession
        fields = "__all__"  # noqa: DJ007 - the admin lists the fields

    def clean(self):
        data = super().clean()
        worker, start = data.get("worker"), data.get("start")
        if worker and start:
            day = start.astimezone(ZoneInfo(worker.park.time_zone)).date()
            if is_closed(worker.park, day):
                raise forms.ValidationError(MONTH_CLOSED % {"month": f"{day:%Y-%m}"})
            # The service checks it again under a lock; here it is a form error.
            candidate = WorkSession(
                pk=self.instance.pk, worker=worker, start=start, end=data.get("end")
            )
            work_session_check_overlap(candidate)
        return data


@admin.register(WorkSession)
class WorkSessionAdmin(admin.ModelAdmin):
    form = WorkSessionForm
    list_display = ["worker", "start", "end", "minutes", "work_date"]
    list_filter = ["worker__park"]
    search_fields = ["worker__employee_no", "worker__name"]
    raw_id_fields = ["worker"]
    date_hierarchy = "work_date"
    list_select_related = ["worker"]

    # Every write goes through the services, so closed months (R13.5) and
    # the session rules (R6) hold here too.
    def _closed(self, obj) -> bool:
        return obj is not None and is_closed(obj.worker.park, obj.work_date)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and not self._closed(obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and not self._closed(obj)

    def save_model(self, request, obj, form, change):
        if change:
            work_session_update(session=obj, start=obj.start, end=obj.end)
        else:
            obj.pk = work_session_log(
                worker=obj.worker, start=obj.start, end=obj.end
            ).pk

    def delete_model(self, request, obj):
        work_session_delete(session=obj)

    def delete_queryset(self, request, queryset):
        for session in queryset.select_related("worker__park"):
            if self._closed(session):
                raise PermissionDenied
            work_session_delete(session=session)


@admin.register(StaffAssignment)
class StaffAssignmentAdmin(admin.ModelAdmin):
    list_display = ["user", "park", "created_at"]
    list_filter = ["park"]
    raw_id_fields = ["user"]
