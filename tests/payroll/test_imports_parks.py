"""Imports and identity mappings tell a park nothing of another park: external
ids and identities are namespaced per park, and every message about a
worker, a project or an annotator is the same whether or not another park
holds them."""

import io
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from payroll import imports
from payroll.imports.report import UNKNOWN_PARK, UNKNOWN_WORKER
from payroll.integrations import worker_identity_create
from payroll.models import Project, WorkerIdentity, WorkRecord
from payroll.services import (
    client_create,
    project_create,
    rate_card_create,
    task_type_create,
    work_record_create,
)
from tests.factories import make_park, make_user
from workforce.services import worker_create

pytestmark = pytest.mark.django_db
HEADER = "employee_no,project,task_type,work_date,units,accuracy,external_id\n"


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


class Park:
    """A park with one project (drive-2d, as in every park), task type box and
    one worker."""

    def __init__(self, code, box, client, number):
        self.park = make_park(code)
        self.project = project_create(
            client=client, park=self.park, code="drive-2d", name=f"secret-{code}"
        )
        rate_card_create(
            project=self.project,
            task_type=box,
            skill_level="junior",
            rate=Decimal("0.1000"),
            effective_from=date(2020, 1, 1),
        )
        self.worker = worker_create(
            park=self.park,
            employee_no=number,
            name=f"姓名{code}",
            gender="female",
            birth_year=1990,
            hire_date=date(2025, 1, 1),
            contract="full_time",
            skill_level="junior",
        )
        self.director = make_user("director", park=self.park)

    def run(self, content: str, fmt="csv", **kw):
        return imports.import_work(
            file=io.BytesIO(content.encode()),
            fmt=fmt,
            project=self.project,
            actor=self.director,
            **kw,
        )


@pytest.fixture
def parks(db):
    client = client_create(code="drive", name="Driving")
    box = task_type_create(code="box", name="二维框", unit="box")
    return Park("east", box, client, "EA1"), Park("west", box, client, "WE1")


def messages(report):
    return [(p.row, p.field, p.message) for p in report.errors]


def row(number, external_id):
    return f"{number},drive-2d,box,2026-03-02,10,,{external_id}\n"


def test_the_same_external_id_in_two_parks_is_two_records(parks):
    """An id another park imported neither clashes (naming its worker and
    project) nor is pre-empted: each park has its own ids."""
    east, west = parks
    assert east.run(HEADER + row("EA1", "B-1")).created == 1
    report = west.run(HEADER + row("WE1", "B-1"))
    assert report.ok, messages(report)
    assert report.created == 1
    assert WorkRecord.objects.filter(source="csv", external_id="B-1").count() == 2
    assert {r.park_id for r in WorkRecord.objects.all()} == {
        east.park.pk,
        west.park.pk,
    }


def test_work_record_create_namespaces_ids_per_park(parks):
    east, _west = parks
    for park in parks:
        work_record_create(
            worker=park.worker,
            project=park.project,
            task_type=park.project.rate_cards.first().task_type,
            work_date=date(2026, 3, 2),
            units=5,
            accuracy=None,
            source="manual",
            external_id="M-1",
        )
    assert WorkRecord.objects.filter(external_id="M-1").count() == 2
    with pytest.raises(ValidationError):
        work_record_create(
            worker=east.worker,
            project=east.project,
            task_type=east.project.rate_cards.first().task_type,
            work_date=date(2026, 3, 3),
            units=5,
            accuracy=None,
            source="manual",
            external_id="M-1",
        )


def test_another_parks_employee_number_reads_as_unknown(parks):
    """The same message, on the same field, for a number of another park and
    a number of no park: nothing tells whether it exists elsewhere."""
    _east, west = parks
    report = west.run(HEADER + row("EA1", "B-1") + row("NOBODY", "B-2"))
    found = messages(report)
    assert [(r, f) for r, f, _ in found] == [(2, "employee_no"), (3, "employee_no")]
    assert found[0][2] == str(UNKNOWN_WORKER % {"value": "EA1"})
    assert found[1][2] == str(UNKNOWN_WORKER % {"value": "NOBODY"})


def labelstudio(user, annotation_id=1):
    return (
        f'[{{"id": 1, "annotations": [{{"id": {annotation_id}, '
        f'"completed_by": {user}, "created_at": "2026-03-02T02:00:00Z", '
        '"result": []}]}]'
    )


def test_annotators_are_mapped_per_park(parks):
    """Two parks may map the same tool user (each has its own Label Studio);
    mapping tells nothing of the other park's mappings, and an annotator
    mapped only elsewhere is unknown here, with the message of anyone
    unknown."""
    east, west = parks
    worker_identity_create(
        worker=east.worker, tool="labelstudio", external_user="17", actor=east.director
    )
    identity = worker_identity_create(
        worker=west.worker, tool="labelstudio", external_user="17", actor=west.director
    )
    assert identity.park_id == west.park.pk
    assert WorkerIdentity.objects.filter(external_user="17").count() == 2
    report = west.run(labelstudio(17), fmt="labelstudio")
    assert report.ok, messages(report)
    assert WorkRecord.objects.get().worker == west.worker

    worker_identity_create(
        worker=east.worker, tool="labelstudio", external_user="99", actor=east.director
    )
    report = west.run(labelstudio(99, 2), fmt="labelstudio")
    unknown = west.run(labelstudio(98, 3), fmt="labelstudio")
    assert [(f, m.replace("99", "N")) for _r, f, m in messages(report)] == [
        (f, m.replace("98", "N")) for _r, f, m in messages(unknown)
    ]
    assert messages(report)[0][1] == "completed_by"


def test_mapping_a_user_twice_in_one_park_names_the_parks_own_worker(parks):
    east, _west = parks
    worker_identity_create(
        worker=east.worker, tool="cvat", external_user="ma", actor=east.director
    )
    with pytest.raises(ValidationError) as caught:
        worker_identity_create(
            worker=east.worker, tool="cvat", external_user="ma", actor=east.director
        )
    assert "EA1" in str(caught.value)


def test_naming_another_parks_code_reads_as_an_unknown_park(parks):
    """Among the projects a user may import into, another park's code is as
    unknown as a code of no park (it said "unknown project" before)."""
    _east, west = parks
    mine = Project.objects.filter(park=west.park)
    answers = []
    for code in ("east", "nowhere"):
        with pytest.raises(ValidationError) as caught:
            imports.resolve_project(code="drive-2d", park_code=code, projects=mine)
        answers.append(caught.value.message_dict)
    assert answers[0] == {"park": [str(UNKNOWN_PARK % {"park": "east"})]}
    assert answers[1] == {"park": [str(UNKNOWN_PARK % {"park": "nowhere"})]}
