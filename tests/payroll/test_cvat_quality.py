"""CVAT quality reports as files (``cvat-quality``, docs/cvat.md): the
newest report of a job wins, task and project reports are skipped, a job
without validation frames stays pending review (R4.3), and the report
download (``/api/quality/reports/{id}/data``) is read.

The reports are shaped as CVAT writes them: the report list's entries as
``QualityReportSerializer`` (cvat/apps/quality_control/serializers.py) and
the test asset ``tests/python/shared/assets/quality_reports.json`` of
cvat-ai/cvat, newest first as the list view orders them (``ordering =
"-id"``, cvat/apps/quality_control/views.py); the download as
``prepare_report_for_downloading`` (cvat/apps/quality_control/
quality_reports.py) writes it. Copies of the fields ParkPay reads are in
``tests/payroll/fixtures/cvat/``.
"""

import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import translation

from payroll.imports.cvat import (
    CVAT_NOT_A_JOB_REPORT,
    CVAT_NOT_REVIEWED,
    CVAT_UNORDERED,
)
from payroll.models import WorkRecord
from tests.payroll.test_imports import World, problems

pytestmark = pytest.mark.django_db
CVAT = Path(__file__).resolve().parent / "fixtures" / "cvat"
PAGE = json.loads((CVAT / "quality_reports.json").read_text())
HEADER = "employee_no,project,task_type,work_date,units,accuracy,external_id\n"


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def world(db):
    """The park of test_imports, with the work of CVAT jobs 27, 30 and 31."""
    world = World()
    report = world.run(
        HEADER
        + "E1001,drive-2d,box,2026-03-05,120,,cvat-job-27\n"
        + "E1002,drive-2d,box,2026-03-06,80,,cvat-job-30\n"
        + "E1002,drive-2d,box,2026-03-06,40,,cvat-job-31\n"
    )
    assert report.ok, problems(report)
    return world


def report_of(number):
    return next(r for r in PAGE["results"] if r["id"] == number)


def accuracy(job):
    return WorkRecord.objects.get(external_id=f"cvat-job-{job}").accuracy


def test_newest_report_of_a_job_sets_its_accuracy_not_the_last_listed(world):
    """CVAT lists reports newest first: report 13 (2026-03-25, 23 of 24 valid,
    95.83 %, "standard") wins over report 4 (2026-03-10, 81.25 %, which would
    pay ×0.00), although report 4 comes last (R4.2)."""
    content = json.dumps([report_of(13), report_of(4)])
    report = world.run(content, fmt="cvat-quality")
    assert report.ok, problems(report)
    assert accuracy(27) == Decimal("95.83")
    # The order of the file does not matter either way.
    report = world.run(json.dumps([report_of(4), report_of(13)]), fmt="cvat-quality")
    assert report.ok and report.updated == 0 and accuracy(27) == Decimal("95.83")


def test_a_job_without_validation_frames_stays_pending_review(world):
    """Report 10 of job 31: no validation frames, so CVAT's accuracy is
    0 / (0 or 1) = 0.0. The job is not reviewed: its record stays pending
    (paid at 1.00 until reviewed, R4.3), never 0.00 (×0.00); a warning says
    so."""
    report = world.run(json.dumps(report_of(10)), fmt="cvat-quality")
    assert report.ok, problems(report)
    assert accuracy(31) is None
    assert [w.message for w in report.warnings] == [
        str(CVAT_NOT_REVIEWED % {"job": 31})
    ]


def test_a_real_zero_accuracy_is_kept(world):
    """Validation frames with annotations, none of them valid: that is a
    reviewed 0.00, rejected (R4.2)."""
    zero = report_of(9) | {
        "summary": report_of(9)["summary"] | {"valid_count": 0, "accuracy": 0.0}
    }
    report = world.run(json.dumps(zero), fmt="cvat-quality")
    assert report.ok, problems(report)
    assert accuracy(30) == Decimal("0.00")


def test_a_page_of_the_report_list_with_task_and_project_reports(world):
    """The whole page as CVAT's list answers it: the task reports (3, 7, 12)
    and the project report (14) are skipped with a warning each, not a
    rejection of the file; each job gets its newest report's accuracy."""
    report = world.run(json.dumps(PAGE), fmt="cvat-quality")
    assert report.ok, problems(report)
    assert (accuracy(27), accuracy(30), accuracy(31)) == (
        Decimal("95.83"),
        Decimal("100.00"),
        None,
    )
    skipped = [w for w in report.warnings if w.field == "job_id"]
    assert [(w.row, w.message) for w in skipped] == [
        (1, str(CVAT_NOT_A_JOB_REPORT % {"target": "project"})),
        (3, str(CVAT_NOT_A_JOB_REPORT % {"target": "task"})),
        (6, str(CVAT_NOT_A_JOB_REPORT % {"target": "task"})),
        (8, str(CVAT_NOT_A_JOB_REPORT % {"target": "task"})),
    ]
    assert report.records == 8 and report.updated == 2


def test_the_report_download_is_read(world):
    """What the UI's Download button gives (``/api/quality/reports/13/data``):
    the accuracy is ``comparison_summary.annotations.accuracy``, 23/24."""
    report = world.run(CVAT / "quality_report_data.json", fmt="cvat-quality")
    assert report.ok, problems(report)
    assert accuracy(27) == Decimal("95.83")


def test_a_download_without_validation_frames_stays_pending(world):
    data = json.loads((CVAT / "quality_report_data.json").read_text())
    summary = data["comparison_summary"]
    summary.update(frames=[], frame_count=0)
    summary["annotations"].update(valid_count=0, total_count=0, accuracy=0.0)
    report = world.run(json.dumps(data), fmt="cvat-quality")
    assert report.ok and accuracy(27) is None


def test_a_task_report_download_is_skipped(world):
    """A task's download names no job (``job_id`` is left out): skipped."""
    data = json.loads((CVAT / "quality_report_data.json").read_text())
    del data["job_id"]
    report = world.run(json.dumps(data), fmt="cvat-quality")
    assert report.ok and report.warnings[0].message == str(
        CVAT_NOT_A_JOB_REPORT % {"target": "task"}
    )
    assert accuracy(27) is None


def test_reports_that_cannot_be_ordered_are_an_error(world):
    """Two reports of a job that disagree, with neither date nor id: nothing
    says which is newest, so the file is refused (all or nothing)."""
    content = json.dumps(
        [
            {"job_id": 27, "summary": {"accuracy": 0.9}},
            {"job_id": 27, "summary": {"accuracy": 0.8}},
        ]
    )
    report = world.run(content, fmt="cvat-quality")
    assert problems(report) == [(2, "created_date", str(CVAT_UNORDERED % {"job": 27}))]
    assert accuracy(27) is None


def test_a_bad_created_date_is_named(world):
    content = json.dumps(report_of(13) | {"created_date": "yesterday"})
    report = world.run(content, fmt="cvat-quality")
    assert [(p.row, p.field) for p in report.errors] == [(1, "created_date")]


def test_the_whole_file_or_nothing(world):
    """One bad report among good ones: no accuracy is set."""
    content = json.dumps([report_of(13), {"job_id": 30, "summary": {"accuracy": 2}}])
    report = world.run(content, fmt="cvat-quality")
    assert [(p.row, p.field) for p in report.errors] == [(2, "summary.accuracy")]
    assert accuracy(27) is None
