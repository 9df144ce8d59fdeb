"""Scoped reads the API needs beyond ``payroll.selectors`` (clients and task
types), built on its ``project_list``."""

from django.db.models import QuerySet

from payroll.models import Client, TaskType
from payroll.selectors import project_list
from workforce.selectors import user_roles

PARK_ROLES = {"worker", "trainer", "director", "payroll_officer"}


def client_list(*, user) -> QuerySet[Client]:
    """Clients of the projects the user may see."""
    return Client.objects.filter(
        id__in=project_list(user=user).values("client_id")
    ).order_by("name")


def task_type_list(*, user) -> QuerySet[TaskType]:
    """Task types are a catalogue shared by the parks: anyone of a park."""
    if not user.is_authenticated:
        return TaskType.objects.none()
    if user.is_superuser or user_roles(user) & PARK_ROLES:
        return TaskType.objects.all()
    return TaskType.objects.none()
