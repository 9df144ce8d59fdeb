"""Label Studio exports as the tool writes them (issue "Why" cases).

The entries are modelled on Label Studio's own export code and types:
``label_studio/data_export/serializers.py`` (HumanSignal/label-studio: the
task with ``annotations[]``, ``completed_by`` a user id, or
``{id, email, first_name, last_name}`` when expanded; the annotation's
``was_cancelled``, ``ground_truth``, ``last_action``),
``label_studio/tasks/choices.py`` (``ActionType``: ``rejected``,
``accepted``, ``fixed_and_accepted``), label-studio-sdk's
``label_studio_sdk/types/annotation_review.py`` (``reviews[]`` of Label Studio
Enterprise, each with ``accepted`` and ``created_at``) and
``label_studio_sdk/converter/converter.py`` (``convert_to_json_min``: one
record per annotation with ``annotator``, ``annotation_id``, ``created_at``,
``updated_at``, ``lead_time`` and each control's value as
``prettify_result`` writes it). ``origin`` of result items
(``manual``/``prediction``/``prediction-changed``) is what the labelling
frontend writes for regions of a pre-annotation.
"""

import io
import json
from datetime import date
from decimal import Decimal

import pytest

from payroll import imports
from payroll.imports import LabelStudioRules
from payroll.integrations import worker_identity_create
from payroll.models import Connector, ConnectorKind, WorkRecord
from payroll.services import project_create, rate_card_create
from tests.factories import make_park
from tests.payroll.test_imports import World, problems
from workforce.services import worker_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db):
    return World()


def box(region_id, origin="manual", label="Car"):
    """One rectangle region as Label Studio writes it in ``result``."""
    return {
        "id": region_id,
        "type": "rectanglelabels",
        "from_name": "label",
        "to_name": "image",
        "original_width": 1920,
        "original_height": 1080,
        "image_rotation": 0,
        "origin": origin,
        "value": {
            "x": 10.0,
            "y": 20.0,
            "width": 30.0,
            "height": 15.0,
            "rotation": 0,
            "rectanglelabels": [label],
        },
    }


def annotation(pk, completed_by=17, result=None, **extra):
    return {
        "id": pk,
        "completed_by": completed_by,
        "result": result if result is not None else [box("r1"), box("r2")],
        "was_cancelled": False,
        "ground_truth": False,
        "created_at": "2026-03-03T02:00:00.000000Z",
        "updated_at": "2026-03-03T02:05:00.000000Z",
        "draft_created_at": None,
        "lead_time": 42.5,
        "import_id": None,
        "last_action": None,
        "bulk_created": False,
        "task": 1,
        "project": 3,
        "updated_by": completed_by,
        "parent_prediction": None,
        "parent_annotation": None,
        "last_created_by": None,
        **extra,
    }


def task(pk, *annotations):
    return {
        "id": pk,
        "annotations": list(annotations),
        "file_upload": "cars.json",
        "drafts": [],
        "predictions": [],
        "data": {"image": f"/data/upload/3/car-{pk}.jpg"},
        "meta": {},
        "created_at": "2026-03-01T08:00:00.000000Z",
        "updated_at": "2026-03-03T02:05:00.000000Z",
        "inner_id": pk,
        "total_annotations": len(annotations),
        "cancelled_annotations": 0,
        "total_predictions": 0,
        "comment_count": 0,
        "unresolved_comment_count": 0,
        "last_comment_updated_at": None,
        "project": 3,
        "updated_by": None,
        "comment_authors": [],
    }


def run(world, entries, **kw):
    kw.setdefault("task_type", world.box)
    return world.run(json.dumps(entries), fmt="labelstudio", **kw)


def test_rejected_review_is_paid_at_the_rejected_tier(world):
    """A review that rejected the annotation (last_action "rejected", or the
    latest of reviews[] with accepted false) puts the record in the lowest
    tier: accuracy 0.00, x0.00, a zero line the worker sees (R4.2, R5). A later
    acceptance wins over an earlier rejection. Fails on main (paid as
    accepted: accuracy empty, x1.00)."""
    rejected_review = {"id": 5, "accepted": False, "created_at": "2026-03-04T01:00Z"}
    accepted_review = {"id": 6, "accepted": True, "created_at": "2026-03-05T01:00Z"}
    report = run(
        world,
        [
            task(1, annotation(101, last_action="rejected")),
            task(2, annotation(102, reviews=[rejected_review])),
            task(3, annotation(103, reviews=[rejected_review, accepted_review])),
            task(4, annotation(104, last_action="fixed_and_accepted")),
        ],
    )
    assert report.ok, problems(report)
    accuracy = dict(
        WorkRecord.objects.values_list("external_id", "accuracy").order_by()
    )
    assert accuracy == {
        "qingshui:101": Decimal("0.00"),
        "qingshui:102": Decimal("0.00"),
        "qingshui:103": None,
        "qingshui:104": None,
    }
    assert report.rejected == 2


def test_ground_truth_is_not_paid(world):
    """An annotation marked ground truth is the reference answer of a
    reviewer, not work: counted apart, never a record. Fails on main."""
    report = run(world, [task(1, annotation(201), annotation(202, ground_truth=True))])
    assert report.ok, problems(report)
    assert list(WorkRecord.objects.values_list("external_id", flat=True)) == [
        "qingshui:201"
    ]
    assert report.ground_truth == 1


def test_cancelled_annotation_is_not_paid(world):
    """was_cancelled (the annotator pressed Skip): no record, counted."""
    report = run(world, [task(1, annotation(301, was_cancelled=True, result=[]))])
    assert report.ok and report.created == 0 and report.cancelled == 1


def test_deleted_user_blocks_the_file_unless_skipping(world):
    """completed_by null (the Label Studio user was deleted): by default the
    file is refused, all-or-nothing, with a message saying so; with "skip what
    cannot be matched" that annotation and one of an unmapped user are listed
    as skipped and the rest imports. Fails on main (no such option)."""
    entries = [
        task(1, annotation(401), annotation(402, completed_by=None)),
        task(2, annotation(403, completed_by=99)),
    ]
    strict = run(world, entries)
    assert not strict.ok and not WorkRecord.objects.exists()
    assert {p.field for p in strict.errors} == {"completed_by"}
    assert any("deleted" in p.message for p in strict.errors)
    lenient = run(world, entries, skip_unmatched=True)
    assert lenient.ok, problems(lenient)
    assert lenient.created == 1 and lenient.skipped_count == 2
    assert [p.ref for p in lenient.skipped] == [
        "task 1, annotation 402",
        "task 2, annotation 403",
    ]
    assert "deleted" in lenient.skipped[0].message
    assert "user 99" in lenient.skipped[1].message
    assert list(WorkRecord.objects.values_list("external_id", flat=True)) == [
        "qingshui:401"
    ]


def test_skipping_unmatched_csv_rows(world):
    """The CSV has the option too: an unknown employee number is skipped."""
    body = (
        "employee_no,task_type,work_date,units,external_id\n"
        "E1001,box,2026-03-02,5,a-1\n"
        "E9999,box,2026-03-02,5,a-2\n"
    )
    assert not world.run(body).ok
    report = world.run(body, skip_unmatched=True)
    assert report.ok and report.created == 1 and report.skipped_count == 1
    assert report.skipped[0].row == 3


def test_json_min_is_accepted(world):
    """JSON-MIN: one record per annotation, the annotator an e-mail (or an id
    where the export has none), the regions under the control's name. Fails
    on main (refused: no annotations[] list)."""
    region = box("x")["value"] | {"original_width": 1920, "original_height": 1080}
    entries = [
        {
            "image": "/data/upload/3/car-1.jpg",
            "id": 1,
            "label": [region, region, region],
            "annotator": "li.na@park.example",
            "annotation_id": 501,
            "created_at": "2026-03-03T02:00:00.000000Z",
            "updated_at": "2026-03-03T02:05:00.000000Z",
            "lead_time": 12.0,
        },
        {
            "image": "/data/upload/3/car-2.jpg",
            "id": 2,
            "choice": "Clear",
            "annotator": 17,
            "annotation_id": 502,
            "created_at": "2026-03-04T02:00:00.000000Z",
            "updated_at": "2026-03-04T02:05:00.000000Z",
            "lead_time": 3.0,
        },
    ]
    report = run(world, entries)
    assert report.ok, problems(report)
    records = {r.external_id: r for r in WorkRecord.objects.select_related("worker")}
    assert records["qingshui:501"].worker.employee_no == "E1002"
    assert records["qingshui:501"].units == 3
    assert records["qingshui:502"].worker.employee_no == "E1001"
    assert records["qingshui:502"].units == 1


def test_units_per_task_and_prediction_policy(world):
    """A project's rules: units per region or per task; regions of a
    pre-annotation accepted unchanged (origin "prediction") paid or not, and
    counted apart in either case."""
    entries = [
        task(
            1,
            annotation(601, result=[box("p1", "prediction"), box("p2", "prediction")]),
            annotation(602, result=[box("p3", "prediction"), box("m1")]),
            annotation(603, result=[box("c1", "prediction-changed"), box("m2")]),
        )
    ]
    report = run(world, entries, rules=LabelStudioRules(predictions="skip"))
    assert report.ok, problems(report)
    units = dict(WorkRecord.objects.values_list("external_id", "units").order_by())
    # 601 is all accepted pre-annotation: skipped; 602 pays its own box only.
    assert units == {"qingshui:602": 1, "qingshui:603": 2}
    assert report.predicted_units == 3 and report.skipped_count == 1
    WorkRecord.objects.all().delete()
    report = run(world, entries, rules=LabelStudioRules(unit_rule="tasks"))
    assert report.ok, problems(report)
    assert set(WorkRecord.objects.values_list("external_id", "units").order_by()) == {
        ("qingshui:601", 1),
        ("qingshui:602", 1),
        ("qingshui:603", 1),
    }


def test_only_pre_annotation_is_reported_when_not_paid(world):
    """With the policy "not paid", an annotation that only accepted the
    model's regions is no record, and the report says why."""
    report = run(
        world,
        [task(1, annotation(701, result=[box("p1", "prediction")]))],
        rules=LabelStudioRules(predictions="skip"),
    )
    assert report.ok and report.created == 0
    assert "pre-annotations" in report.skipped[0].message


def test_two_parks_servers_user_ids_and_external_ids_never_meet(world):
    """Quick export (completed_by a bare user id, no e-mail): user 1 is a
    different person on each park's server, and annotation 1 exists on both.
    Identities and external ids are per connector. Fails on main (no
    connectors; ids per park only)."""
    other = make_park("hongshan")
    project = project_create(
        client=world.project.client, park=other, code="drive-2d", name="二维标注"
    )
    rate_card_create(
        project=project,
        task_type=world.box,
        skill_level="junior",
        rate=Decimal("0.1000"),
        effective_from=date(2020, 1, 1),
    )
    theirs = worker_create(
        park=other,
        employee_no="H1",
        name="阿依古丽",
        gender="female",
        birth_year=1995,
        hire_date=date(2025, 1, 1),
        contract="full_time",
        skill_level="junior",
    )
    mine = Connector.objects.create(
        park=world.park,
        kind=ConnectorKind.LABEL_STUDIO,
        name="LS",
        base_url="http://ls.qingshui.example",
    )
    second = Connector.objects.create(
        park=world.park,
        kind=ConnectorKind.LABEL_STUDIO,
        name="LS 2",
        base_url="http://ls2.qingshui.example",
    )
    their = Connector.objects.create(
        park=other,
        kind=ConnectorKind.LABEL_STUDIO,
        name="LS",
        base_url="http://ls.hongshan.example",
    )
    worker_identity_create(
        worker=world.workers["E1003"],
        tool="labelstudio",
        external_user="1",
        connector=mine,
    )
    worker_identity_create(
        worker=world.workers["E1001"],
        tool="labelstudio",
        external_user="1",
        connector=second,
    )
    worker_identity_create(
        worker=theirs, tool="labelstudio", external_user="1", connector=their
    )
    entries = [task(1, annotation(1, completed_by=1))]

    def rules(connector):
        return LabelStudioRules(
            namespace=connector.namespace, connector_id=connector.pk
        )

    for connector, project_ in (
        (mine, world.project),
        (second, world.project),
        (their, project),
    ):
        report = imports.import_work(
            file=io.BytesIO(json.dumps(entries).encode()),
            fmt="labelstudio",
            project=project_,
            task_type=world.box,
            rules=rules(connector),
        )
        assert report.ok and report.created == 1, problems(report)
    owners = set(WorkRecord.objects.values_list("external_id", "worker__employee_no"))
    assert owners == {
        (f"c{mine.pk}:1", "E1003"),
        (f"c{second.pk}:1", "E1001"),
        (f"c{their.pk}:1", "H1"),
    }
    # The park's own mapping of user 17 is not the connector's user 17 ...
    report = run(world, [task(2, annotation(9, completed_by=17))], rules=rules(mine))
    assert not report.ok
    # ... but an e-mail mapping holds on every server of the park.
    expanded = {
        "id": 40,
        "email": "li.na@park.example",
        "first_name": "",
        "last_name": "",
    }
    report = run(
        world, [task(3, annotation(10, completed_by=expanded))], rules=rules(mine)
    )
    assert report.ok and report.created == 1
    # The other park's worker is never named in this park's report.
    report = run(world, [task(4, annotation(11, completed_by=2))], rules=rules(mine))
    assert not report.ok and "H1" not in str(report.as_dict())
