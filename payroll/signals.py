"""A change of a park's prices, tiers, projects or pay policy changes every
estimate in it: each forgets the park's cached estimates and catalogues
(``earnings_changed_in_park``) once its transaction commits, whichever way it
was made (services, pages, admin)."""

from django.db import transaction
from django.db.models.signals import post_delete, post_save

from payroll.earnings import earnings_changed_in_park
from payroll.models import Project, QualityTier, RateCard, TaskType
from workforce.models import Park, PayPolicy


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


def prices_changed(sender, instance, **kwargs) -> None:
    for park_id in _parks_of(instance):
        transaction.on_commit(
            lambda park_id=park_id: earnings_changed_in_park(park_id=park_id)
        )


def connect() -> None:
    for model in (Project, QualityTier, RateCard, TaskType, PayPolicy):
        for signal in (post_save, post_delete):
            signal.connect(prices_changed, sender=model, dispatch_uid=f"prices-{model}")
