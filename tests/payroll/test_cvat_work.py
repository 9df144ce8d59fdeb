"""The work of CVAT jobs (payroll/imports/cvat.py, docs/cvat.md): units from a
job's annotations (shapes, tags, tracks as frames or as objects), one record
per job keyed ``cvat-job-<id>``, and the "CVAT for images 1.1" XML export.

The annotations are shaped as CVAT's ``/api/jobs/{id}/annotations`` answers
(cvat-ai/cvat ``tests/python/shared/assets/annotations.json``: shapes,
tags, tracks with keyframed ``shapes`` and ``outside``); the XML export as
``dump_as_cvat_annotation`` and ``JobData._init_meta`` write it
(cvat/apps/dataset_manager/formats/cvat.py, cvat/apps/dataset_manager/
bindings.py). Copies are in ``tests/payroll/fixtures/cvat/``.
"""

import io
import json
from datetime import date
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st

from payroll import imports
from payroll.imports import ImportFileError, ImportReport
from payroll.imports.cvat import (
    TRACKS_AS_FRAMES,
    TRACKS_AS_OBJECTS,
    XML_FORBIDDEN,
    XML_NOT_CVAT,
    XML_TASK_EXPORT,
    CvatJobWork,
    import_cvat_jobs,
    import_cvat_work,
    job_units,
    read_cvat_xml,
    track_frames,
)
from payroll.integrations import worker_identity_create
from payroll.models import WorkRecord
from tests.payroll.test_imports import World, problems

CVAT = Path(__file__).resolve().parent / "fixtures" / "cvat"
ANNOTATIONS = json.loads((CVAT / "annotations.json").read_text())["job"]
XML = (CVAT / "job_35_cvat_for_images.xml").read_bytes()


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


# Units (no database)


def test_shapes_and_tags_are_units_and_a_skeleton_is_one():
    """Job 35: a box, a polygon, a skeleton of two points and a tag: 4 units."""
    assert job_units(ANNOTATIONS["35"], stop_frame=19) == (4, 3, 0, 1)


def test_a_track_counts_the_frames_it_is_visible_in():
    """Job 34 (frames 0–9): a track with keyframes at 0 (visible), 4 (outside)
    and 6 (visible to the end of the job) is seen on frames 0–3 and 6–9: 8
    units by frames, 1 by objects; plus one shape."""
    track = ANNOTATIONS["34"]["tracks"][0]
    assert track_frames(track, stop_frame=9) == 8
    assert job_units(ANNOTATIONS["34"], stop_frame=9, tracks=TRACKS_AS_FRAMES) == (
        9,
        1,
        8,
        0,
    )
    assert job_units(ANNOTATIONS["34"], stop_frame=9, tracks=TRACKS_AS_OBJECTS) == (
        2,
        1,
        1,
        0,
    )


def test_a_track_outside_from_its_first_frame_counts_nothing():
    track = {"shapes": [{"frame": 3, "outside": True}], "elements": []}
    assert track_frames(track, stop_frame=9) == 0
    assert job_units({"tracks": [track]}, stop_frame=9, tracks="objects")[0] == 0


def test_a_skeleton_track_counts_by_its_elements_when_it_has_no_shapes():
    elements = [
        {"shapes": [{"frame": 0, "outside": False}, {"frame": 3, "outside": True}]},
        {"shapes": [{"frame": 0, "outside": False}, {"frame": 2, "outside": True}]},
    ]
    assert track_frames({"shapes": [], "elements": elements}, stop_frame=9) == 3


# The XML export (no database)


def test_the_xml_export_of_a_job_reads_as_its_work():
    """The export of job 35 (CVAT for images 1.1) counts as job 35's
    annotations through the API: 4 units, assignee worker1, updated
    2026-03-02 17:30 UTC."""
    job = read_cvat_xml(io.BytesIO(XML))
    assert job == CvatJobWork(
        job_id=35,
        assignee={"username": "worker1", "email": "worker1@cvat.org"},
        updated="2026-03-02 17:30:00+00:00",
        units=4,
        shapes=3,
        tracks=0,
        tags=1,
    )


def test_the_video_format_counts_tracks_by_the_rule():
    """ "CVAT for video 1.1" lists a track's every frame (outside="1" where it
    is hidden): 3 visible frames, or one object."""
    track = (
        '<track id="0" label="car" source="manual">'
        + '<box frame="10" keyframe="1" outside="0" occluded="0" xtl="1" ytl="1"'
        ' xbr="2" ybr="2" z_order="0"></box>'
        + '<box frame="11" keyframe="0" outside="0" occluded="0" xtl="1" ytl="1"'
        ' xbr="2" ybr="2" z_order="0"></box>'
        + '<box frame="12" keyframe="1" outside="1" occluded="0" xtl="1" ytl="1"'
        ' xbr="2" ybr="2" z_order="0"></box>'
        + '<box frame="13" keyframe="1" outside="0" occluded="0" xtl="1" ytl="1"'
        ' xbr="2" ybr="2" z_order="0"></box></track>'
    )
    video = XML.replace(b"</annotations>", track.encode() + b"</annotations>")
    assert read_cvat_xml(io.BytesIO(video)).units == 4 + 3
    assert read_cvat_xml(io.BytesIO(video), tracks="objects").units == 4 + 1


def test_entities_are_refused():
    """A document type with entities (the "billion laughs") is refused before
    anything is expanded."""
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        b"<annotations>&lol2;</annotations>"
    )
    with pytest.raises(ImportFileError) as caught:
        read_cvat_xml(io.BytesIO(bomb))
    assert str(caught.value) == str(XML_FORBIDDEN)


def test_a_task_export_is_refused_with_what_to_do():
    task = XML.replace(b"<job>", b"<task>").replace(b"</job>", b"</task>")
    with pytest.raises(ImportFileError) as caught:
        read_cvat_xml(io.BytesIO(task))
    assert str(caught.value) == str(XML_TASK_EXPORT)


@pytest.mark.parametrize(
    "content", [b"<annotations><image>", b"not xml", b"", b"<other/>"]
)
def test_broken_or_foreign_xml_is_a_file_error(content):
    with pytest.raises(ImportFileError) as caught:
        read_cvat_xml(io.BytesIO(content))
    message = str(caught.value)
    assert message.startswith("Malformed XML at line") or message.startswith(
        str(XML_NOT_CVAT % {"reason": ""}).split(":")[0]
    )


# Into work records (the database)


@pytest.fixture
def world(db):
    world = World()
    worker_identity_create(
        worker=world.workers["E1001"], tool="cvat", external_user="worker1"
    )
    return world


def run_xml(world, content=XML, **kw):
    report = ImportReport(format="cvat-xml", park="qingshui", project="drive-2d")
    try:
        import_cvat_work(
            io.BytesIO(content),
            world.project,
            world.box,
            report,
            dry_run=kw.get("dry_run", False),
        )
    except ImportFileError as exc:
        report.error(None, "file", str(exc))
    return report


def test_a_job_export_imports_as_one_record_and_again_as_none(world):
    """Job 35's export: one record of worker1 (E1001), 4 units, unreviewed, on
    3 March (17:30 UTC is 01:30 in Asia/Shanghai), source ``cvat``, external
    id ``cvat-job-35``; the same file again creates nothing."""
    report = run_xml(world)
    assert report.ok, problems(report)
    assert (report.records, report.created) == (1, 1)
    record = WorkRecord.objects.get()
    assert (record.worker.employee_no, record.units, record.accuracy) == (
        "E1001",
        4,
        None,
    )
    assert (record.work_date, record.source, record.external_id) == (
        date(2026, 3, 3),
        "cvat",
        "cvat-job-35",
    )
    again = run_xml(world)
    assert again.ok and again.created == 0 and again.unchanged == 1
    assert WorkRecord.objects.count() == 1


def test_a_dry_run_writes_nothing(world):
    report = run_xml(world, dry_run=True)
    assert report.ok and report.created == 1
    assert not WorkRecord.objects.exists()


def test_an_unmapped_assignee_is_an_error_and_nothing_is_saved(world):
    content = XML.replace(b"worker1", b"dummy1")
    report = run_xml(world, content)
    assert [(p.row, p.field) for p in report.errors] == [(1, "assignee")]
    assert "dummy1" in report.errors[0].message
    assert not WorkRecord.objects.exists()


def test_changed_work_of_an_imported_job_is_kept_and_warned(world):
    """The job re-exported with a fifth shape: the record is not edited
    (corrections are adjustments); the report warns."""
    assert run_xml(world).ok
    more = XML.replace(
        b'<image id="14" name="frame_000014.jpg" width="1920" height="1080">',
        b'<image id="14" name="frame_000014.jpg" width="1920" height="1080">'
        b'<box label="car" source="manual" occluded="0" xtl="1" ytl="1" xbr="5"'
        b' ybr="5" z_order="0"></box>',
    )
    report = run_xml(world, more)
    assert report.ok and report.created == 0 and report.warning_count == 1
    assert WorkRecord.objects.get().units == 4


def test_jobs_of_the_api_import_all_or_nothing(world):
    """Two jobs, one of an unmapped user: all or nothing refuses both; with
    ``skip_unmapped`` (the connector) the other is imported and the skipped
    one is warned about."""
    jobs = [
        CvatJobWork(35, {"id": 6, "username": "worker1"}, "2026-03-02T17:30:00Z", 4),
        CvatJobWork(36, {"id": 14, "username": "dummy1"}, "2026-03-04T03:00:00Z", 1),
    ]
    report = ImportReport(format="cvat")
    import_cvat_jobs(jobs, world.project, world.box, report, dry_run=False)
    assert [(p.row, p.field) for p in report.errors] == [(2, "assignee")]
    assert not WorkRecord.objects.exists()
    report = ImportReport(format="cvat")
    import_cvat_jobs(
        jobs, world.project, world.box, report, dry_run=False, skip_unmapped=True
    )
    assert report.ok and report.created == 1 and report.warning_count == 1
    assert WorkRecord.objects.get().external_id == "cvat-job-35"


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.binary(max_size=300),
        st.builds(
            lambda cut, junk: XML[:cut] + junk,
            st.integers(min_value=0, max_value=len(XML)),
            st.binary(max_size=20),
        ),
    )
)
def test_any_bytes_read_as_work_or_a_file_error(data):
    """Whatever the bytes (a cut export, junk), the reader answers the work
    of a job or an ImportFileError with a message: never another exception."""
    try:
        job = read_cvat_xml(io.BytesIO(data))
    except ImportFileError as exc:
        assert str(exc)
    else:
        assert job.job_id == 35 and job.units >= 0


# Through the file imports (upload and import_work)

offered = pytest.mark.skipif(
    "cvat-xml" not in imports.FORMATS,
    reason="import_work does not offer the cvat-xml format",
)


@offered
def test_import_work_reads_a_job_export(world):
    """``import_work --format cvat-xml``: the same record, the same report,
    all or nothing; the command line says what it created."""
    report = world.run(XML, fmt="cvat-xml", task_type=world.box)
    assert report.ok and report.created == 1, problems(report)
    bad = world.run(XML.replace(b"<id>35</id>", b"<id>x</id>"), fmt="cvat-xml")
    assert [(p.row, p.field) for p in bad.errors] == [(None, "file")]
    assert WorkRecord.objects.count() == 1


@offered
def test_the_command_imports_a_job_export(world, tmp_path, capsys):
    path = tmp_path / "job_35.xml"
    path.write_bytes(XML)
    call_command(
        "import_work",
        str(path),
        "--format",
        "cvat-xml",
        "--project",
        "drive-2d",
        "--task-type",
        "box",
    )
    assert "1" in capsys.readouterr().out
    assert WorkRecord.objects.get().external_id == "cvat-job-35"
