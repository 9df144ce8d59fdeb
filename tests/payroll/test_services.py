"""Payroll reference data: rate cards and work records refuse bad input."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from audit.models import AuditEvent
from payroll.models import ACCURACY_RANGE, RateCard, WorkRecord
from payroll.services import rate_card_create, work_record_create

pytestmark = pytest.mark.django_db


def record(worker, project, task_type, **kw):
    values = dict(
        worker=worker,
        project=project,
        task_type=task_type,
        work_date=date(2026, 3, 2),
        units=10,
        accuracy=Decimal("97.50"),
        source="test",
        external_id="r1",
    )
    values.update(kw)
    return work_record_create(**values)


@pytest.mark.parametrize("units", [0, -3])
def test_units_must_be_positive(worker, catalogue, units):
    """R4.1: units is a positive whole number."""
    with pytest.raises(ValidationError) as exc:
        record(worker, *catalogue, units=units)
    assert "units" in exc.value.message_dict
    assert not WorkRecord.objects.exists()


def test_accuracy_above_100_is_refused(worker, catalogue):
    with pytest.raises(ValidationError) as exc:
        record(worker, *catalogue, accuracy=Decimal("100.01"))
    assert exc.value.message_dict["accuracy"] == [str(ACCURACY_RANGE)]


def test_duplicate_external_id_is_refused(worker, catalogue):
    """(source, external id) is unique, so imports can be repeated safely."""
    record(worker, *catalogue)
    with pytest.raises(ValidationError) as exc:
        record(worker, *catalogue, units=99)
    assert "external_id" in exc.value.message_dict
    assert WorkRecord.objects.get().units == 10


def test_unreviewed_record_is_allowed(worker, catalogue):
    assert record(worker, *catalogue, accuracy=None).accuracy is None


def test_rate_card_change_closes_the_open_card(catalogue):
    """R3.1: a new price is a new card; the open-ended one ends where it starts."""
    project, task_type = catalogue
    new = rate_card_create(
        project=project,
        task_type=task_type,
        skill_level="junior",
        rate=Decimal("0.6000"),
        effective_from=date(2026, 3, 16),
    )
    old = RateCard.objects.get(
        project=project,
        task_type=task_type,
        skill_level="junior",
        effective_from=date(2020, 1, 1),
    )
    assert old.effective_to == date(2026, 3, 16)
    assert new.effective_to is None
    assert AuditEvent.objects.filter(
        action="rate_card.create", object_id=str(new.pk)
    ).exists()


def test_overlapping_rate_card_is_refused(catalogue):
    """R3.1: two cards for one key never overlap."""
    project, task_type = catalogue
    rate_card_create(
        project=project,
        task_type=task_type,
        skill_level="senior",
        rate=Decimal("0.7"),
        effective_from=date(2026, 4, 1),
    )
    before = RateCard.objects.count()
    with pytest.raises(ValidationError) as exc:
        rate_card_create(
            project=project,
            task_type=task_type,
            skill_level="senior",
            rate=Decimal("0.8"),
            effective_from=date(2026, 3, 1),
            effective_to=date(2026, 4, 15),
        )
    assert "effective_from" in exc.value.message_dict
    assert RateCard.objects.count() == before


def test_rate_card_end_before_start_is_refused(catalogue):
    project, task_type = catalogue
    with pytest.raises(ValidationError) as exc:
        rate_card_create(
            project=project,
            task_type=task_type,
            skill_level="senior",
            rate=Decimal("0.7"),
            effective_from=date(2026, 4, 1),
            effective_to=date(2026, 3, 1),
        )
    assert "effective_to" in exc.value.message_dict


def test_a_bounded_card_inside_an_open_card_is_refused(catalogue):
    """R3.1: a card with an end date does not cut a hole in the card in force
    (the price after its end would be lost); it is refused as an overlap."""
    project, task_type = catalogue
    with pytest.raises(ValidationError) as exc:
        rate_card_create(
            project=project,
            task_type=task_type,
            skill_level="junior",
            rate=Decimal("0.9"),
            effective_from=date(2026, 4, 1),
            effective_to=date(2026, 5, 1),
        )
    assert "effective_from" in exc.value.message_dict
    card = RateCard.objects.get(
        project=project, task_type=task_type, skill_level="junior"
    )
    assert card.effective_to is None
