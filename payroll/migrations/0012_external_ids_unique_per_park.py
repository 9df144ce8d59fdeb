"""The park of work records and identities is required, and external ids
and tool users are unique per park (filled in 0008; a migration of its own
so that PostgreSQL has no pending foreign-key checks on the altered table)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("payroll", "0011_external_ids_per_park")]

    operations = [
        migrations.AlterField(
            model_name="workrecord",
            name="park",
            field=models.ForeignKey(
                db_index=False,
                editable=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="workforce.park",
            ),
        ),
        migrations.AlterField(
            model_name="workeridentity",
            name="park",
            field=models.ForeignKey(
                db_index=False,
                editable=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="workforce.park",
            ),
        ),
        migrations.RemoveConstraint(
            model_name="workrecord", name="record_unique_external_id"
        ),
        migrations.AddConstraint(
            model_name="workrecord",
            constraint=models.UniqueConstraint(
                fields=("park", "source", "external_id"),
                name="record_unique_park_external_id",
            ),
        ),
        migrations.RemoveConstraint(
            model_name="workeridentity", name="identity_unique_user"
        ),
        migrations.AddConstraint(
            model_name="workeridentity",
            constraint=models.UniqueConstraint(
                fields=("park", "tool", "external_user"),
                name="identity_unique_park_user",
            ),
        ),
    ]
