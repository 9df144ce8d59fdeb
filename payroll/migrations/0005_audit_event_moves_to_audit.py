# The audit trail now belongs to the audit app (audit/migrations/0001_initial):
# payroll forgets the model, the table and its rows stay where they are.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("payroll", "0004_payslip_indexes_covered_by_constraints"),
        ("audit", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="AuditEvent")],
            database_operations=[],
        ),
    ]
