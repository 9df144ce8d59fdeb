"""The audit trail moved from payroll to its own app: a database made before
the move keeps its audit events, periods and payslips."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from audit.models import AuditEvent
from payroll.models import PayPeriod, Payslip

BEFORE_MOVE = [
    ("payroll", "0004_payslip_indexes_covered_by_constraints"),
    ("audit", None),
]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return MigrationExecutor(connection)


def _latest():
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()


def _old_rows(apps):
    """What a database made before the move holds, through its own models."""
    Park = apps.get_model("workforce", "Park")
    Worker = apps.get_model("workforce", "Worker")
    PayPeriodOld = apps.get_model("payroll", "PayPeriod")
    PayslipOld = apps.get_model("payroll", "Payslip")
    AuditEventOld = apps.get_model("payroll", "AuditEvent")
    ContentTypeOld = apps.get_model("contenttypes", "ContentType")
    park = Park.objects.create(name="Old park", code="old", county="C", township="T")
    worker = Worker.objects.create(
        park=park,
        employee_no="OLD001",
        name="Old worker",
        gender="female",
        birth_year=1990,
        hire_date=date(2026, 1, 5),
    )
    period = PayPeriodOld.objects.create(park=park, month=date(2026, 10, 1))
    zero = Decimal("0.00")
    PayslipOld.objects.create(
        period=period,
        worker=worker,
        number="OLD-2026-10-0001",
        contract="full_time",
        skill_level="junior",
        minutes=600,
        piece_pay=Decimal("123.45"),
        topup=zero,
        bonuses=zero,
        allowances=zero,
        taxable=Decimal("123.45"),
        social_insurance=zero,
        tax=zero,
        deductions=zero,
        carried_in=zero,
        carried_forward=zero,
        net=Decimal("123.45"),
        ytd_taxable=Decimal("123.45"),
        ytd_social_insurance=zero,
        ytd_tax=zero,
        generated_at=datetime(2026, 11, 1, tzinfo=UTC),
    )
    for n in range(3):
        AuditEventOld.objects.create(
            park=park,
            action=f"period.test{n}",
            object_type="payperiod",
            object_id=str(period.pk),
            before={"status": "open"},
            after={"status": "calculated", "n": n},
        )
    content_type, _created = ContentTypeOld.objects.get_or_create(
        app_label="payroll", model="auditevent"
    )
    return park.pk, period.pk, content_type.pk


@pytest.mark.django_db(transaction=True)
def test_a_database_from_before_the_move_keeps_its_audit_rows():
    latest = _latest()
    executor = _migrate(BEFORE_MOVE)
    try:
        old_nodes = [n for n in latest if n[0] not in {"payroll", "audit"}]
        old_nodes.append(BEFORE_MOVE[0])
        old_apps = executor.loader.project_state(old_nodes).apps
        park_id, period_id, content_type_id = _old_rows(old_apps)
        Permission.objects.filter(content_type_id=content_type_id).delete()
        permission = Permission.objects.create(
            content_type_id=content_type_id,
            codename="view_auditevent",
            name="Can view audit event",
        )
    finally:
        _migrate(latest)
    ContentType.objects.clear_cache()

    events = AuditEvent.objects.filter(park_id=park_id).order_by("id")
    assert [e.action for e in events] == [
        "period.test0",
        "period.test1",
        "period.test2",
    ]
    assert [e.after for e in events] == [
        {"status": "calculated", "n": n} for n in range(3)
    ]
    assert all(e.before == {"status": "open"} for e in events)
    assert all(e.object_id == str(period_id) for e in events)
    assert PayPeriod.objects.get(pk=period_id).month == date(2026, 10, 1)
    payslip = Payslip.objects.get(number="OLD-2026-10-0001")
    assert payslip.period_id == period_id
    assert payslip.net == Decimal("123.45")
    # The content type moved with the model, and so did its permissions.
    content_type = ContentType.objects.get(pk=content_type_id)
    assert (content_type.app_label, content_type.model) == ("audit", "auditevent")
    assert ContentType.objects.get_for_model(AuditEvent).pk == content_type_id
    permission.refresh_from_db()
    assert permission.content_type_id == content_type_id
