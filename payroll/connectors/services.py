"""Registering a park's tool servers and their project mappings; the
webhook's authentication; asking for a pull."""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.services import audit_record
from payroll.integrations import PAY_STAFF, require_park_role
from payroll.models import (
    Connector,
    ConnectorProject,
    ConnectorSync,
    Project,
    SyncStatus,
    TaskType,
)
from payroll.queue import enqueue_on_commit
from workforce.models import Park

CONNECTOR_SYNC = "payroll.connector_sync"
TOKEN_REQUIRED = _("Enter the access token of the tool server.")
PROJECT_OF_PARK = _("Choose a project of this park.")
NAME_TAKEN = _("The park has a connector of that name already.")
ALREADY_RUNNING = _("A pull of this connector is already running.")
DIRECTOR_ONLY = _("Only the park's director or payroll officer manages connectors.")


def connector_list(*, park: Park) -> QuerySet:
    return Connector.objects.filter(park=park).order_by("name")


@transaction.atomic
def connector_save(
    *,
    park: Park,
    actor,
    kind: str,
    name: str,
    base_url: str,
    access_token: str = "",
    enabled: bool = True,
    connector: Connector | None = None,
) -> Connector:
    """Create or change a connector. An empty ``access_token`` keeps the one
    stored (it is never shown back, so a form leaves it empty)."""
    require_park_role(actor, park.id, PAY_STAFF, DIRECTOR_ONLY)
    creating = connector is None
    if creating:
        connector = Connector(park=park, webhook_secret=secrets.token_urlsafe(24))
    elif connector.park_id != park.id:
        raise ValidationError(PROJECT_OF_PARK)
    before = _shown(connector) if not creating else None
    connector.kind, connector.name, connector.enabled = kind, name.strip(), enabled
    connector.base_url = base_url.strip()
    if access_token.strip():
        connector.access_token = access_token.strip()
    elif creating:
        raise ValidationError({"access_token": TOKEN_REQUIRED})
    if (
        Connector.objects.filter(park=park, name=connector.name)
        .exclude(pk=connector.pk)
        .exists()
    ):
        raise ValidationError({"name": NAME_TAKEN})
    connector.full_clean(exclude=["access_token", "webhook_secret"])
    connector.save()
    audit_record(
        actor=actor,
        park=park,
        action="connector.create" if creating else "connector.update",
        obj=connector,
        before=before,
        after=_shown(connector) | {"token_changed": bool(access_token.strip())},
    )
    return connector


def _shown(connector: Connector) -> dict:
    """What the audit trail keeps of a connector: never its secrets."""
    return {
        "kind": connector.kind,
        "name": connector.name,
        "base_url": connector.base_url,
        "enabled": connector.enabled,
    }


@transaction.atomic
def connector_project_save(
    *,
    connector: Connector,
    actor,
    tool_project: str,
    project: Project,
    task_type: TaskType,
    unit_rule: str,
    prediction_policy: str,
) -> ConnectorProject:
    require_park_role(actor, connector.park_id, PAY_STAFF, DIRECTOR_ONLY)
    if project.park_id != connector.park_id:
        raise ValidationError({"project": PROJECT_OF_PARK})
    tool_project = str(tool_project).strip()
    mapping = ConnectorProject.objects.filter(
        connector=connector, tool_project=tool_project
    ).first() or ConnectorProject(connector=connector, tool_project=tool_project)
    mapping.project, mapping.task_type = project, task_type
    mapping.unit_rule, mapping.prediction_policy = unit_rule, prediction_policy
    mapping.full_clean(validate_unique=False)
    mapping.save()
    audit_record(
        actor=actor,
        park=connector.park,
        action="connector.project",
        obj=connector,
        after={
            "tool_project": tool_project,
            "project": project.code,
            "task_type": task_type.code,
            "unit_rule": unit_rule,
            "prediction_policy": prediction_policy,
        },
    )
    return mapping


@transaction.atomic
def connector_project_delete(*, mapping: ConnectorProject, actor) -> None:
    connector = mapping.connector
    require_park_role(actor, connector.park_id, PAY_STAFF, DIRECTOR_ONLY)
    audit_record(
        actor=actor,
        park=connector.park,
        action="connector.project_delete",
        obj=connector,
        before={"tool_project": mapping.tool_project},
    )
    mapping.delete()


def connector_sync_request(
    *,
    connector: Connector,
    actor=None,
    trigger: str = "manual",
    tool_project: str | None = None,
    task_ids: list[int] | None = None,
) -> None:
    """Queue a pull (after commit). A pull already running is not doubled
    by a button press; a webhook's pull of one task always goes."""
    require_park_role(actor, connector.park_id, PAY_STAFF, DIRECTOR_ONLY)
    if trigger == "manual" and connector_running(connector=connector):
        raise ValidationError(ALREADY_RUNNING)
    enqueue_on_commit(CONNECTOR_SYNC, connector.pk, trigger, tool_project, task_ids)


# A pull still "running" after this long was cut off (a worker lost).
STALE_AFTER = timedelta(minutes=30)


def connector_running(*, connector: Connector) -> bool:
    return ConnectorSync.objects.filter(
        connector=connector,
        status=SyncStatus.RUNNING,
        started_at__gt=timezone.now() - STALE_AFTER,
    ).exists()


def webhook_connector(*, connector_id: int, secret: str) -> Connector | None:
    """The connector whose webhook secret is ``secret`` (compared in constant
    time), or None: an unknown id and a wrong secret look the same."""
    connector = Connector.objects.filter(pk=connector_id).first()
    expected = (connector.webhook_secret if connector is not None else "") or ""
    # Compared even when there is nothing to compare with, so that the time
    # taken tells nothing; an empty secret never matches.
    same = hmac.compare_digest(
        (expected or secrets.token_urlsafe(24)).encode(), (secret or "").encode()
    )
    if not (same and expected and connector.enabled):
        return None
    return connector
