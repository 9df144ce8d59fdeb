"""Cached estimates follow what they are computed from, whichever way it was
changed (services, pages, admin), once the change commits:

- a park's prices, tiers, projects, task types or pay policy change every
  estimate in the park and the catalogue each process keeps of it
  (``earnings_changed_in_park``);
- a worker's record, sessions, skill level, adjustments or own details change
  their estimate (``earnings_changed``).

Imports write records in bulk, without these signals, and forget the park's
estimates themselves. A cache that cannot be reached when the change commits
is logged, not raised: the change is saved, and an estimate is recomputed
within ``ESTIMATE_SECONDS`` anyway.
"""

from django.db import transaction
from django.db.models.signals import post_delete, post_save

from payroll.earnings import earnings_changed, earnings_changed_in_park
from payroll.models import (
    Adjustment,
    Project,
    QualityTier,
    RateCard,
    TaskType,
    WorkRecord,
)
from workforce.models import Park, PayPolicy, SkillPeriod, Worker, WorkSession

PARK_MODELS = (Project, QualityTier, RateCard, TaskType, PayPolicy)
WORKER_MODELS = (Worker, WorkSession, SkillPeriod, Adjustment, WorkRecord)


def _parks_of(instance) -> list[int]:
    if isinstance(instance, TaskType):  # shared by every park
        return list(Park.objects.values_list("id", flat=True))
    if isinstance(instance, (Project, PayPolicy)):
        return [instance.park_id]
    park_id = (
        Project.objects.filter(pk=instance.project_id)
        .values_list("park_id", flat=True)
        .first()
    )
    return [park_id] if park_id is not None else []


def park_changed(sender, instance, **kwargs) -> None:
    for park_id in _parks_of(instance):
        transaction.on_commit(
            lambda park_id=park_id: earnings_changed_in_park(park_id=park_id),
            robust=True,
        )


def worker_changed(sender, instance, **kwargs) -> None:
    worker_id = instance.pk if isinstance(instance, Worker) else instance.worker_id
    transaction.on_commit(lambda: earnings_changed(worker_id=worker_id), robust=True)


def connect() -> None:
    for models, receiver in (
        (PARK_MODELS, park_changed),
        (WORKER_MODELS, worker_changed),
    ):
        for model in models:
            for signal in (post_save, post_delete):
                signal.connect(
                    receiver, sender=model, dispatch_uid=f"earnings-{model._meta.label}"
                )
