"""R13.5: close each park's months up to its latest approved or paid period."""

from datetime import timedelta

from django.db import migrations


def close_approved_months(apps, schema_editor):
    PayPeriod = apps.get_model("payroll", "PayPeriod")
    Park = apps.get_model("workforce", "Park")
    for park in Park.objects.all():
        latest = (
            PayPeriod.objects.filter(park=park, status__in=["approved", "paid"])
            .order_by("-month")
            .first()
        )
        if latest is not None:
            next_month = (latest.month + timedelta(days=32)).replace(day=1)
            park.closed_through = next_month - timedelta(days=1)
            park.save(update_fields=["closed_through"])


class Migration(migrations.Migration):
    dependencies = [
        ("payroll", "0006_line_pending_units"),
        ("workforce", "0004_park_opening_and_closed_months"),
    ]

    operations = [
        migrations.RunPython(close_approved_months, migrations.RunPython.noop),
    ]
