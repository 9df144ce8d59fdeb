"""Park integrations: API keys of a park's systems, and who a worker is in the
annotation tools the park imports from (Label Studio, CVAT).

An integration is a login of its own, not a person: a user in the
``integration`` group, assigned to exactly one park by a ``StaffAssignment``,
with no password and one API key. It may import work into its park's
projects and nothing else; a director creates and revokes it.

An API key is shown once, when it is made; only its SHA-256 is kept
(``ApiKey``), with its first characters to recognise it by.
"""

import hashlib
import secrets
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, OuterRef, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.services import audit_record
from payroll.models import (
    ApiKey,
    Connector,
    Project,
    WorkerIdentity,
    normalise_external_user,
)
from workforce.models import Park, StaffAssignment, Worker
from workforce.selectors import user_park_ids, user_roles

INTEGRATION_GROUP = "integration"
PAY_STAFF = {"director", "payroll_officer"}
IMPORTERS = {*PAY_STAFF, INTEGRATION_GROUP}

DIRECTOR_ONLY = _("Only the park's director can create or revoke API keys.")
PAY_STAFF_ONLY = _("Only the park's director or payroll officer can do this.")
IMPORT_FORBIDDEN = _(
    "Only the park's director, payroll officer or the park's integration can "
    "import work."
)
INTEGRATION_NAME_REQUIRED = _("Give the integration a name.")
ALREADY_REVOKED = _("This API key was revoked already.")
IDENTITY_TAKEN = _("%(tool)s user %(user)s is mapped to %(worker)s already.")

API_KEY_PREFIX_LENGTH = 8
# A key's last use is written at most this often (not on every request).
LAST_USED_EVERY = timedelta(minutes=1)


def api_key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def is_integration(user) -> bool:
    return INTEGRATION_GROUP in user_roles(user)


def has_park_role(user, park_id: int, roles: set[str]) -> bool:
    """Whether ``user`` holds one of ``roles`` at the park (superusers: always)."""
    if user is None or not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    return bool(user_roles(user) & roles) and park_id in user_park_ids(user)


def require_park_role(actor, park_id: int, roles: set[str], message) -> None:
    if actor is None:
        return  # the command line and system jobs
    if not has_park_role(actor, park_id, roles):
        raise PermissionDenied(message)


# Reads


def integration_list(*, user) -> QuerySet:
    """Integration logins of the parks the user directs, with ``park_id``."""
    qs = (
        get_user_model()
        .objects.filter(groups__name=INTEGRATION_GROUP)
        .annotate(
            park_id=F("assignments__park_id"),
            key_prefix=Subquery(
                ApiKey.objects.filter(user=OuterRef("pk"))
                .order_by("-created_at", "-id")
                .values("prefix")[:1]
            ),
        )
        .order_by("-date_joined", "-id")
    )
    if not user.is_authenticated:
        return qs.none()
    if user.is_superuser:
        return qs
    if "director" not in user_roles(user):
        return qs.none()
    return qs.filter(assignments__park_id__in=user_park_ids(user))


def api_key_get(*, key: str) -> ApiKey | None:
    """The unrevoked key ``key`` is, with its login; None for any other."""
    return (
        ApiKey.objects.select_related("user")
        .filter(hashed_key=api_key_hash(key), revoked_at__isnull=True)
        .first()
    )


def worker_identity_list(*, user) -> QuerySet[WorkerIdentity]:
    """Pay staff see their parks' mappings; a worker their own."""
    qs = WorkerIdentity.objects.select_related("worker")
    if not user.is_authenticated:
        return qs.none()
    if user.is_superuser:
        return qs
    roles = user_roles(user)
    if roles & PAY_STAFF:
        return qs.filter(worker__park_id__in=user_park_ids(user))
    if "worker" in roles:
        return qs.filter(worker__user=user)
    return qs.none()


def import_project_list(*, user) -> QuerySet[Project]:
    """Projects the user may import work into: pay staff and integrations,
    their parks' projects."""
    qs = Project.objects.select_related("park", "client")
    if user is None or not user.is_authenticated:
        return qs.none()
    if user.is_superuser:
        return qs
    if not user_roles(user) & IMPORTERS:
        return qs.none()
    return qs.filter(park_id__in=user_park_ids(user))


# Writes


@transaction.atomic
def api_key_create(*, user) -> str:
    """A new API key for ``user``; returns the key, which is kept nowhere."""
    key = secrets.token_hex(20)
    ApiKey.objects.create(
        user=user, prefix=key[:API_KEY_PREFIX_LENGTH], hashed_key=api_key_hash(key)
    )
    return key


def api_key_used(*, api_key: ApiKey) -> None:
    """Note that ``api_key`` was used now (at most once a minute)."""
    now = timezone.now()
    if api_key.last_used_at is None or now - api_key.last_used_at >= LAST_USED_EVERY:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now


@transaction.atomic
def integration_create(*, park: Park, name: str, actor) -> tuple:
    """A login for one of the park's systems and its API key (shown once)."""
    require_park_role(actor, park.id, {"director"}, DIRECTOR_ONLY)
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": INTEGRATION_NAME_REQUIRED})
    user = get_user_model()(
        username=f"integration-{park.code}-{secrets.token_hex(4)}",
        first_name=name[:150],
    )
    user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    user.groups.add(Group.objects.get_or_create(name=INTEGRATION_GROUP)[0])
    StaffAssignment.objects.create(user=user, park=park)
    key = api_key_create(user=user)
    audit_record(
        actor=actor,
        park=park,
        action="integration.create",
        obj=user,
        after={"name": user.first_name, "username": user.username},
    )
    return user, key


@transaction.atomic
def integration_revoke(*, integration, actor):
    """Revoke the key and disable the login; a new key is a new integration."""
    park_ids = list(
        StaffAssignment.objects.filter(user=integration).values_list(
            "park_id", flat=True
        )
    )
    for park_id in park_ids:
        require_park_role(actor, park_id, {"director"}, DIRECTOR_ONLY)
    if not integration.is_active:
        raise ValidationError(ALREADY_REVOKED)
    ApiKey.objects.filter(user=integration, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    integration.is_active = False
    integration.save(update_fields=["is_active"])
    audit_record(
        actor=actor,
        park=Park.objects.filter(pk__in=park_ids).first(),
        action="integration.revoke",
        obj=integration,
        before={"active": True},
        after={"active": False},
    )
    return integration


@transaction.atomic
def worker_identity_create(
    *, worker: Worker, tool: str, external_user: str, actor=None, connector=None
) -> WorkerIdentity:
    """Map a tool user to ``worker``: in the park's own namespace, or on one
    ``connector``'s server (its user ids are its own)."""
    require_park_role(actor, worker.park_id, PAY_STAFF, PAY_STAFF_ONLY)
    key = normalise_external_user(external_user)
    if connector is not None:
        tool = connector.tool
    taken = (
        WorkerIdentity.objects.filter(
            park_id=worker.park_id,
            tool=tool,
            external_user=key,
            connector=connector,
        )
        .select_related("worker")
        .first()
    )
    if taken is not None:
        # Of the same park (each park maps its own users): the actor sees them.
        raise ValidationError(
            {
                "external_user": IDENTITY_TAKEN
                % {"tool": tool, "user": key, "worker": str(taken.worker)}
            }
        )
    identity = WorkerIdentity(
        worker=worker,
        tool=tool,
        connector=connector,
        external_user=key,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    identity.full_clean()
    identity.save()
    audit_record(
        actor=actor,
        park=worker.park,
        action="identity.create",
        obj=identity,
        after={"worker": worker.employee_no, "tool": tool, "user": key},
    )
    return identity


@transaction.atomic
def worker_identity_delete(*, identity: WorkerIdentity, actor=None) -> None:
    worker = identity.worker
    require_park_role(actor, worker.park_id, PAY_STAFF, PAY_STAFF_ONLY)
    audit_record(
        actor=actor,
        park=worker.park,
        action="identity.delete",
        obj=identity,
        before={
            "worker": worker.employee_no,
            "tool": identity.tool,
            "user": identity.external_user,
        },
    )
    identity.delete()


def connector_list(*, user) -> QuerySet:
    """The connectors of the parks whose pay the user manages."""
    if getattr(user, "is_superuser", False):
        return Connector.objects.all()
    if not user_roles(user) & PAY_STAFF:
        return Connector.objects.none()
    return Connector.objects.filter(park_id__in=user_park_ids(user))
