"""The director's connector pages and the tools' webhook endpoint."""

from __future__ import annotations

import json

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from payroll.connectors import services
from payroll.integrations import worker_identity_create
from payroll.models import (
    ConnectorKind,
    ConnectorProject,
    ConnectorSync,
    PredictionPolicyChoice,
    Project,
    TaskType,
    UnitRuleChoice,
    WorkerIdentity,
)
from workforce.access import role_required, staff_park
from workforce.models import Worker

# The Label Studio webhook actions that start a pull of what they name.
WEBHOOK_ACTIONS = {"ANNOTATION_CREATED", "ANNOTATION_UPDATED", "REVIEW_CREATED"}
HISTORY = 10


class ConnectorForm(forms.Form):
    kind = forms.ChoiceField(choices=ConnectorKind.choices, label=gettext_lazy("Tool"))
    name = forms.CharField(max_length=100, label=gettext_lazy("Name"))
    base_url = forms.URLField(
        max_length=300, label=gettext_lazy("Server address"), assume_scheme="https"
    )
    access_token = forms.CharField(
        required=False,
        label=gettext_lazy("Access token"),
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=gettext_lazy("Stored encrypted and never shown again."),
    )
    enabled = forms.BooleanField(
        required=False, initial=True, label=gettext_lazy("Pull automatically")
    )


class MappingForm(forms.Form):
    tool_project = forms.CharField(
        max_length=40, label=gettext_lazy("Project id in the tool")
    )
    project = forms.ModelChoiceField(queryset=None, label=gettext_lazy("Project"))
    task_type = forms.ModelChoiceField(
        queryset=TaskType.objects.all(), label=gettext_lazy("Task type")
    )
    unit_rule = forms.ChoiceField(
        choices=UnitRuleChoice.choices, label=gettext_lazy("Units per annotation")
    )
    prediction_policy = forms.ChoiceField(
        choices=PredictionPolicyChoice.choices,
        label=gettext_lazy("Pre-annotations accepted unchanged"),
    )

    def __init__(self, *args, park=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = Project.objects.filter(park=park)


class IdentityForm(forms.Form):
    external_user = forms.CharField(
        max_length=254, label=gettext_lazy("User id or e-mail in the tool")
    )
    employee_no = forms.CharField(max_length=20, label=gettext_lazy("Employee number"))


UNKNOWN_EMPLOYEE = gettext_lazy("No worker of this park has that employee number.")
IDENTITIES_SHOWN = 200


def _errors(form, exc: ValidationError) -> None:
    for field, errors in getattr(exc, "message_dict", {None: exc.messages}).items():
        for error in errors:
            form.add_error(field if field in form.fields else None, error)


def _connector(request, pk):
    park = staff_park(request)
    return park, get_object_or_404(services.connector_list(park=park), pk=pk)


@role_required("director", "payroll_officer")
@require_http_methods(["GET", "POST"])
def connectors(request):
    """The park's tool servers, and a new one."""
    park = staff_park(request)
    form = ConnectorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            connector = services.connector_save(
                park=park, actor=request.user, **form.cleaned_data
            )
        except ValidationError as exc:
            _errors(form, exc)
        else:
            messages.success(request, _("Connector added."))
            return redirect(_url(connector))
    return render(
        request,
        "park/connectors.html",
        {"park": park, "form": form, "connectors": services.connector_list(park=park)},
    )


def _url(connector) -> str:
    return (
        reverse("park:connector", args=[connector.pk]) + f"?park={connector.park.code}"
    )


@role_required("director", "payroll_officer")
@require_http_methods(["GET", "POST"])
def connector_detail(request, pk: int):
    """Edit a connector, map its projects; its pulls: status and history."""
    park, connector = _connector(request, pk)
    what = request.POST.get("form")
    form = ConnectorForm(
        request.POST if what == "connector" else None,
        initial={
            "kind": connector.kind,
            "name": connector.name,
            "base_url": connector.base_url,
            "enabled": connector.enabled,
        },
    )
    mapping_form = MappingForm(request.POST if what == "mapping" else None, park=park)
    if what == "connector" and form.is_valid():
        try:
            services.connector_save(
                park=park, actor=request.user, connector=connector, **form.cleaned_data
            )
        except ValidationError as exc:
            _errors(form, exc)
        else:
            messages.success(request, _("Connector saved."))
            return redirect(_url(connector))
    if what == "mapping" and mapping_form.is_valid():
        try:
            services.connector_project_save(
                connector=connector, actor=request.user, **mapping_form.cleaned_data
            )
        except ValidationError as exc:
            _errors(mapping_form, exc)
        else:
            messages.success(request, _("Project mapping saved."))
            return redirect(_url(connector))
    identity_form = IdentityForm(request.POST if what == "identity" else None)
    if what == "identity" and identity_form.is_valid():
        worker = Worker.objects.filter(
            park=park, employee_no=identity_form.cleaned_data["employee_no"].strip()
        ).first()
        if worker is None:
            identity_form.add_error("employee_no", UNKNOWN_EMPLOYEE)
        else:
            try:
                worker_identity_create(
                    worker=worker,
                    tool=connector.tool,
                    external_user=identity_form.cleaned_data["external_user"],
                    actor=request.user,
                    connector=connector,
                )
            except ValidationError as exc:
                _errors(identity_form, exc)
            else:
                messages.success(request, _("Annotator mapped."))
                return redirect(_url(connector))
    if what == "unmap":
        mapping = get_object_or_404(
            ConnectorProject, connector=connector, pk=request.POST.get("mapping")
        )
        services.connector_project_delete(mapping=mapping, actor=request.user)
        messages.success(request, _("Project mapping removed."))
        return redirect(_url(connector))
    syncs = list(ConnectorSync.objects.filter(connector=connector)[:HISTORY])
    triggers = {
        "schedule": _("schedule"),
        "manual": _("Sync now"),
        "webhook": _("webhook"),
    }
    for sync in syncs:
        sync.trigger_label = triggers.get(sync.trigger, sync.trigger)
    hook = request.build_absolute_uri(
        reverse("connector_webhook", args=[connector.pk, connector.webhook_secret])
    )
    return render(
        request,
        "park/connector.html",
        {
            "park": park,
            "connector": connector,
            "form": form,
            "mapping_form": mapping_form,
            "mappings": ConnectorProject.objects.filter(
                connector=connector
            ).select_related("project", "task_type"),
            "identity_form": identity_form,
            "identities": WorkerIdentity.objects.filter(connector=connector)
            .select_related("worker")
            .order_by("external_user")[:IDENTITIES_SHOWN],
            "identity_count": WorkerIdentity.objects.filter(
                connector=connector
            ).count(),
            "last": syncs[0] if syncs else None,
            "syncs": syncs,
            "webhook_url": hook,
        },
    )


@role_required("director", "payroll_officer")
@require_POST
def connector_sync_now(request, pk: int):
    _park, connector = _connector(request, pk)
    try:
        services.connector_sync_request(connector=connector, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Pull started."))
    return redirect(_url(connector))


@role_required("director", "payroll_officer")
@require_GET
def connector_status(request, pk: int):
    """JSON of the latest pull, for the progress bar."""
    _park, connector = _connector(request, pk)
    sync = ConnectorSync.objects.filter(connector=connector).first()
    if sync is None:
        return JsonResponse({"status": None})
    return JsonResponse(
        {
            "id": sync.pk,
            "status": sync.status,
            "status_display": sync.get_status_display(),
            "done": sync.done,
            "total": sync.total,
            "created": sync.created,
        }
    )


@csrf_exempt
@require_POST
def connector_webhook(request, pk: int, secret: str):
    """A tool's webhook (Label Studio: ANNOTATION_CREATED, ANNOTATION_UPDATED,
    REVIEW_CREATED): pulls the tasks it names. The secret in the path (or the
    ``X-ParkPay-Secret`` header) authenticates it; a wrong one answers 404."""
    connector = services.webhook_connector(
        connector_id=pk, secret=request.headers.get("X-ParkPay-Secret") or secret
    )
    if connector is None:
        raise Http404
    try:
        payload = json.loads(request.body or b"{}")
    except ValueError:
        return HttpResponse(status=400)
    if not isinstance(payload, dict):
        return HttpResponse(status=400)
    action = payload.get("action")
    if action not in WEBHOOK_ACTIONS:
        return HttpResponse(status=204)  # other events: nothing to pull
    project = payload.get("project")
    tool_project = project.get("id") if isinstance(project, dict) else project
    task_ids = _task_ids(payload)
    if tool_project is None or not task_ids:
        return HttpResponse(status=204)
    services.connector_sync_request(
        connector=connector,
        trigger="webhook",
        tool_project=str(tool_project),
        task_ids=task_ids[:100],
    )
    return HttpResponse(status=202)


def _task_ids(payload: dict) -> list[int]:
    """The tasks a Label Studio webhook names: ``task.id``, the annotation's
    ``task`` (``annotation`` or ``annotations[]``, a review's ``annotation``)."""
    found = []
    task = payload.get("task")
    if isinstance(task, dict):
        found.append(task.get("id"))
    annotations = payload.get("annotations") or []
    if isinstance(payload.get("annotation"), dict):
        annotations = [payload["annotation"], *annotations]
    review = payload.get("review")
    if isinstance(review, dict) and isinstance(review.get("annotation"), dict):
        annotations.append(review["annotation"])
    for annotation in annotations:
        if isinstance(annotation, dict):
            found.append(annotation.get("task"))
    ids = []
    for value in found:
        is_id = isinstance(value, int) and not isinstance(value, bool) and value > 0
        if is_id and value not in ids:
            ids.append(value)
    return ids
