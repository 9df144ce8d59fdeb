"""External ids and tool identities are namespaced per park.

Work records and worker identities get the park of their project or worker,
filled here for the rows already there (0009 then makes the column required
and the unique constraints (park, source, external id) and (park, tool,
external user)."""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def fill_parks(apps, schema_editor):
    WorkRecord = apps.get_model("payroll", "WorkRecord")
    Project = apps.get_model("payroll", "Project")
    WorkerIdentity = apps.get_model("payroll", "WorkerIdentity")
    Worker = apps.get_model("workforce", "Worker")
    WorkRecord.objects.update(
        park_id=Subquery(
            Project.objects.filter(pk=OuterRef("project_id")).values("park_id")[:1]
        )
    )
    WorkerIdentity.objects.update(
        park_id=Subquery(
            Worker.objects.filter(pk=OuterRef("worker_id")).values("park_id")[:1]
        )
    )


class Migration(migrations.Migration):
    dependencies = [
        ("payroll", "0010_work_corrections"),
        ("workforce", "0004_park_opening_and_closed_months"),
    ]

    operations = [
        migrations.AddField(
            model_name="workrecord",
            name="park",
            field=models.ForeignKey(
                db_index=False,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="workforce.park",
            ),
        ),
        migrations.AddField(
            model_name="workeridentity",
            name="park",
            field=models.ForeignKey(
                db_index=False,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="workforce.park",
            ),
        ),
        migrations.RunPython(fill_parks, migrations.RunPython.noop, elidable=True),
    ]
