"""Migrations 0011–0012: work records and identities made before external
ids were namespaced per park get their park, and two parks may then use the
same id."""

from datetime import date

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from payroll.models import WorkerIdentity, WorkRecord

BEFORE = ("payroll", "0010_work_corrections")


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return MigrationExecutor(connection)


@pytest.mark.django_db(transaction=True)
def test_records_and_identities_of_before_get_their_park():
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
    executor = _migrate([BEFORE])
    try:
        nodes = [n for n in latest if n[0] != "payroll"] + [BEFORE]
        apps = executor.loader.project_state(nodes).apps
        Park = apps.get_model("workforce", "Park")
        Worker = apps.get_model("workforce", "Worker")
        parks, records, identities = [], [], []
        for code in ("east", "west"):
            park = Park.objects.create(name=code, code=code, county="C", township="T")
            worker = Worker.objects.create(
                park=park,
                employee_no=f"{code}-1",
                name=code,
                gender="female",
                birth_year=1990,
                hire_date=date(2026, 1, 5),
            )
            client = apps.get_model("payroll", "Client").objects.get_or_create(
                code="c", defaults={"name": "C"}
            )[0]
            project = apps.get_model("payroll", "Project").objects.create(
                client=client, park=park, code="p", name="P"
            )
            task_type = apps.get_model("payroll", "TaskType").objects.get_or_create(
                code="box", defaults={"name": "Box", "unit": "box"}
            )[0]
            records.append(
                apps.get_model("payroll", "WorkRecord")
                .objects.create(
                    worker=worker,
                    project=project,
                    task_type=task_type,
                    work_date=date(2026, 1, 6),
                    units=3,
                    source="csv",
                    external_id=f"{code}-id",
                )
                .pk
            )
            identities.append(
                apps.get_model("payroll", "WorkerIdentity")
                .objects.create(worker=worker, tool="cvat", external_user=code)
                .pk
            )
            parks.append(park.pk)
    finally:
        _migrate(latest)
    assert [WorkRecord.objects.get(pk=pk).park_id for pk in records] == parks
    assert [WorkerIdentity.objects.get(pk=pk).park_id for pk in identities] == parks
    # Now namespaced: the east park's id can be the west park's too.
    east = WorkRecord.objects.get(pk=records[0])
    west = WorkRecord.objects.get(pk=records[1])
    west.external_id = east.external_id
    west.save()
