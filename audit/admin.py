"""Audit of changes made in the Django admin (who, when, before, after).

Services record their own events (audit.services.audit_record); this mixin
does the same for the admin's forms and inlines, so no change to rates, tiers,
policy or workers escapes the trail. Sensitive personal fields are recorded as
changed without their values: the trail is read by directors, who must not
see them (DESIGN: roles and data protection).
"""

from django.contrib import admin
from django.forms.models import model_to_dict

from audit.models import AuditEvent
from audit.services import audit_record

SENSITIVE_FIELDS = {
    "ethnicity",
    "monitored_household",
    "returner",
    "birth_year",
    # R17.1: identity and bank data, recorded as changed, never with a value.
    "resident_id",
    "bank_name",
    "bank_account",
    "account_holder",
}
MASK = "(changed)"


def _park_of(obj):
    for path in ("park", "project.park", "worker.park", "period.park"):
        target = obj
        for part in path.split("."):
            target = getattr(target, part, None)
            if target is None:
                break
        if target is not None:
            return target
    return None


def _diff(before: dict, after: dict) -> tuple[dict, dict]:
    old, new = {}, {}
    for key in sorted(set(before) | set(after)):
        if before.get(key) != after.get(key):
            if key in SENSITIVE_FIELDS:
                old[key], new[key] = MASK, MASK
            else:
                old[key], new[key] = before.get(key), after.get(key)
    return old, new


def _values(obj) -> dict:
    if obj.pk is None:
        return {}
    fresh = type(obj)._default_manager.filter(pk=obj.pk).first()
    return model_to_dict(fresh) if fresh is not None else {}


class AuditedAdmin(admin.ModelAdmin):
    """A ModelAdmin whose saves and deletes (and its inlines') are audited."""

    def save_model(self, request, obj, form, change):
        before = _values(obj) if change else {}
        super().save_model(request, obj, form, change)
        self._record(request, obj, "change" if change else "add", before)

    def delete_model(self, request, obj):
        before = _values(obj)
        park = _park_of(obj)
        pk = obj.pk
        super().delete_model(request, obj)
        obj.pk = pk
        old, _new = _diff(before, {})
        audit_record(
            actor=request.user,
            park=park,
            action=f"{obj._meta.model_name}.delete",
            obj=obj,
            before=old,
        )

    def save_formset(self, request, form, formset, change):
        befores = {
            f.instance.pk: _values(f.instance) for f in formset.forms if f.instance.pk
        }
        super().save_formset(request, form, formset, change)
        for obj in formset.new_objects:
            self._record(request, obj, "add", {})
        for obj, _fields in formset.changed_objects:
            self._record(request, obj, "change", befores.get(obj.pk, {}))
        for obj in formset.deleted_objects:
            old, _new = _diff(befores.get(obj.pk, {}), {})
            audit_record(
                actor=request.user,
                park=_park_of(form.instance),
                action=f"{obj._meta.model_name}.delete",
                obj=obj,
                before=old,
            )

    def _record(self, request, obj, verb: str, before: dict) -> None:
        old, new = _diff(before, model_to_dict(obj))
        if verb == "change" and not new:
            return
        audit_record(
            actor=request.user,
            park=_park_of(obj),
            action=f"{obj._meta.model_name}.{verb}",
            obj=obj,
            before=old or None,
            after=new,
        )


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["at", "actor", "action", "object_type", "object_id"]
    list_filter = ["action", "park"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
