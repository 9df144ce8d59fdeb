"""R11.2: the single undated special deduction of a database made before the
amounts were dated becomes one row from the worker's hire month."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from workforce.deductions import special_deductions_to_date
from workforce.models import DeductionCategory, SpecialDeduction

BEFORE = [("workforce", "0005_park_require_2fa")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return MigrationExecutor(connection)


@pytest.mark.django_db(transaction=True)
def test_undated_amounts_are_carried_over_from_the_hire_month():
    """2,000 a month, hired 2024-03-10: in force from March 2024, so June
    2025's year to date is 6 × 2,000 = 12,000 as it was before; a worker
    with 0.00 gets no row."""
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
    executor = _migrate(BEFORE)
    try:
        apps = executor.loader.project_state(BEFORE).apps
        Park = apps.get_model("workforce", "Park")
        Worker = apps.get_model("workforce", "Worker")
        park = Park.objects.create(name="Old", code="old", county="C", township="T")
        ids = [
            Worker.objects.create(
                park=park,
                employee_no=f"OLD{n}",
                name="Old worker",
                gender="female",
                birth_year=1990,
                hire_date=date(2024, 3, 10),
                special_deduction_monthly=Decimal(amount),
            ).pk
            for n, amount in enumerate(("2000.00", "0.00"))
        ]
    finally:
        _migrate(latest)
    rows = list(SpecialDeduction.objects.filter(worker__park__code="old"))
    assert [
        (r.worker_id, r.category, r.monthly_amount, r.valid_from) for r in rows
    ] == [(ids[0], DeductionCategory.UNSPECIFIED, Decimal("2000.00"), date(2024, 3, 1))]
    assert special_deductions_to_date(worker_ids=ids, month=date(2025, 6, 1)) == {
        ids[0]: Decimal("12000.00")
    }
