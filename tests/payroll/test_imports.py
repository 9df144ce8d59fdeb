"""Imports of completed work (payroll/imports/, docs/imports.md): the ParkPay
CSV, Label Studio exports and CVAT quality reports; all-or-nothing per file,
idempotent on (source, external id), a clear report and never a crash."""

import io
import tracemalloc
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import TestCase
from django.utils import translation

from audit.models import AuditEvent
from payroll import imports, periods
from payroll.integrations import worker_identity_create
from payroll.models import (
    ACCURACY_RANGE,
    UNITS_POSITIVE,
    WorkerIdentity,
    WorkRecord,
)
from payroll.services import (
    client_create,
    project_create,
    rate_card_create,
    task_type_create,
    work_record_create,
)
from tests.factories import make_catalogue, make_park, make_user
from workforce.models import WorkSession
from workforce.services import worker_create

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
HEADER = "employee_no,project,task_type,work_date,units,accuracy,external_id\n"


@pytest.fixture(autouse=True)
def english():
    """Messages are checked in English (the default language is Chinese)."""
    with translation.override("en"):
        yield


class World:
    """The park of the fixture files: project drive-2d, task types box and
    lane, workers E1001–E1003 with their Label Studio and CVAT identities."""

    def __init__(self):
        self.park = make_park("qingshui")
        client = client_create(code="drive", name="Autonomous driving client")
        self.box = task_type_create(code="box", name="二维框", unit="box")
        self.lane = task_type_create(code="lane", name="车道线", unit="frame")
        self.project = project_create(
            client=client, park=self.park, code="drive-2d", name="二维标注"
        )
        for task_type in (self.box, self.lane):
            rate_card_create(
                project=self.project,
                task_type=task_type,
                skill_level="junior",
                rate=Decimal("0.1000"),
                effective_from=date(2020, 1, 1),
            )
        self.workers = {
            no: worker_create(
                park=self.park,
                employee_no=no,
                name=name,
                gender="female",
                birth_year=1990,
                hire_date=date(2025, 1, 1),
                contract="full_time",
                skill_level="junior",
            )
            for no, name in (("E1001", "马小兰"), ("E1002", "李娜"), ("E1003", "王芳"))
        }
        worker_identity_create(
            worker=self.workers["E1001"], tool="labelstudio", external_user="17"
        )
        worker_identity_create(
            worker=self.workers["E1002"],
            tool="labelstudio",
            external_user="li.na@park.example",
        )
        worker_identity_create(
            worker=self.workers["E1003"], tool="cvat", external_user="ma.xiaolan"
        )

    def run(self, content, fmt="csv", **kw):
        """Import ``content`` (bytes, text or a fixture Path) into drive-2d."""
        if isinstance(content, Path):
            content = content.read_bytes()
        if isinstance(content, str):
            content = content.encode()
        kw.setdefault("project", self.project)
        return imports.import_work(file=io.BytesIO(content), fmt=fmt, **kw)


@pytest.fixture
def world(db):
    return World()


def problems(report):
    return [(p.row, p.field, p.message) for p in report.errors]


# CSV


def test_documented_sample_imports(world):
    """docs/samples/work.csv imports as documented: five records, the empty
    project cell taking the import's project, an empty accuracy unreviewed."""
    report = world.run(ROOT / "docs" / "samples" / "work.csv")
    assert report.ok, problems(report)
    assert (report.records, report.created) == (5, 5)
    record = WorkRecord.objects.get(external_id="B-2026-0004")
    assert record.project == world.project and record.task_type == world.box
    assert record.accuracy == Decimal("91.00") and record.source == "csv"
    assert WorkRecord.objects.get(external_id="B-2026-0002").accuracy is None


def test_same_file_twice_creates_nothing_the_second_time(world):
    """Idempotent on (source, external id): the second import skips every row."""
    first = world.run(FIXTURES / "work.csv")
    second = world.run(FIXTURES / "work.csv")
    assert (first.created, second.created) == (5, 0)
    assert second.ok and second.unchanged == 5
    assert WorkRecord.objects.count() == 5


def test_one_bad_row_among_many_saves_nothing_and_names_the_row(world):
    """All-or-nothing: row 42 (a spreadsheet's numbering) has 0 units."""
    lines = [
        f"E1001,drive-2d,box,2026-03-02,{0 if n == 42 else 10},97.5,R{n}\n"
        for n in range(2, 102)
    ]
    report = world.run(HEADER + "".join(lines))
    assert not report.ok
    assert problems(report) == [(42, "units", str(UNITS_POSITIVE))]
    assert report.created == 0
    assert not WorkRecord.objects.exists()


def test_a_nul_character_is_named_not_a_database_error(world):
    """Text in PostgreSQL cannot hold NUL: an external id or employee number
    with one is the row's error, and a record named with one (Label Studio
    ids) imports under a readable name; nothing of a refused file is saved."""
    report = world.run(
        HEADER
        + "E1001,drive-2d,box,2026-03-02,10,97.5,R1\n"
        + "E1001,drive-2d,box,2026-03-03,10,97.5,R\x002\n"
        + "E10\x0001,drive-2d,box,2026-03-04,10,97.5,R3\n"
    )
    assert [(p.row, p.field) for p in report.errors] == [
        (3, "external_id"),
        (4, "employee_no"),
    ]
    assert report.errors[0].message == str(imports.NUL_CHARACTER)
    assert not WorkRecord.objects.exists()
    task = (FIXTURES / "labelstudio_export.json").read_text()
    report = world.run(
        task.replace('"id": 501', '"id": "5\\u000001"', 1),
        fmt="labelstudio",
        task_type=world.box,
    )
    assert report.ok, problems(report)
    assert WorkRecord.objects.exists()


def test_a_cvat_job_id_with_a_nul_character_is_named(world):
    cvat_records(world)
    report = world.run(
        b'{"job_id": "7\\u0000", "summary": {"accuracy": 0.9}}', fmt="cvat-quality"
    )
    assert problems(report) == [(1, "job_id", str(imports.NUL_CHARACTER))]
    assert WorkRecord.objects.get(external_id="cvat-job-7").accuracy is None


def test_every_bad_row_is_reported_with_field_and_reason(world):
    """Each problem of each row, with the shared rules' messages."""
    other = make_park()
    worker_create(
        park=other,
        employee_no="X9",
        name="外园",
        gender="male",
        birth_year=1990,
        hire_date=date(2025, 1, 1),
        contract="full_time",
    )
    report = world.run(
        HEADER
        + "E9999,drive-2d,box,2026-03-02,10,,A1\n"  # 2: unknown worker
        + "E1001,nope,box,2026-03-02,10,,A2\n"  # 3: unknown project
        + "E1001,drive-2d,cuboid,2026-03-02,10,,A3\n"  # 4: unknown task type
        + "E1001,drive-2d,box,2026-02-30,10,,A4\n"  # 5: no such day
        + "E1001,drive-2d,box,2026-03-02,ten,,A5\n"  # 6: not a number
        + "E1001,drive-2d,box,2026-03-02,10,100.5,A6\n"  # 7: accuracy range
        + "E1001,drive-2d,box,2026-03-02,10,97.555,A7\n"  # 8: 3 decimals
        + "E1001,drive-2d,box,2026-03-02,10,,\n"  # 9: no external id
        + "X9,drive-2d,box,2026-03-02,10,,A9\n"  # 10: another park's worker
        + "E1001,drive-2d,box,2026-03-02,10,,A1\n"  # 11: fine
        + "E1001,drive-2d,box,2026-03-02,10,,A1\n"  # 12: repeats row 11's id
    )
    found = {(row, name) for row, name, _ in problems(report)}
    assert found == {
        (2, "employee_no"),
        (3, "project"),
        (4, "task_type"),
        (5, "work_date"),
        (6, "units"),
        (7, "accuracy"),
        (8, "accuracy"),
        (9, "external_id"),
        (10, "employee_no"),
        (12, "external_id"),
    }
    messages = {(row, name): message for row, name, message in problems(report)}
    assert messages[(7, "accuracy")] == str(ACCURACY_RANGE)
    # Another park's worker reads as unknown: nothing tells that X9 exists.
    assert messages[(10, "employee_no")] == str(
        imports.report.UNKNOWN_WORKER % {"value": "X9"}
    )
    assert "E9999" in messages[(2, "employee_no")]
    assert "record 11" in messages[(12, "external_id")]
    assert not WorkRecord.objects.exists()


def test_unknown_project_cell_gets_a_clear_message(world):
    """A row naming a project that the park does not have."""
    report = world.run(HEADER + "E1001,drive-3d,box,2026-03-02,10,,U1\n")
    assert problems(report) == [
        (
            2,
            "project",
            str(imports.UNKNOWN_PROJECT % {"project": "drive-3d", "park": "qingshui"}),
        )
    ]


def test_bom_and_chinese_headers_and_values(world):
    """A BOM, Chinese column names, a task type and a project by their Chinese
    names, dates written 2026年3月2日 and 2026/03/03, full-width digits and ％."""
    report = world.run(FIXTURES / "work_zh_bom.csv")
    assert report.ok, problems(report)
    assert report.created == 2
    first = WorkRecord.objects.get(external_id="ZH-0001")
    assert (first.task_type, first.work_date, first.accuracy) == (
        world.box,
        date(2026, 3, 2),
        Decimal("98.50"),
    )
    second = WorkRecord.objects.get(external_id="ZH-0002")
    assert (second.task_type, second.units, second.accuracy) == (
        world.lane,
        150,
        Decimal("96.20"),
    )


def test_gb18030_file_from_chinese_excel(world):
    """Excel on a Chinese Windows writes GB18030: read it, and say so."""
    text = "工号,任务类型,日期,数量,外部编号\nE1001,二维框,2026-03-02,5,GB-1\n"
    report = world.run(text.encode("gb18030"))
    assert report.ok and report.created == 1
    assert report.warnings[0].message == str(imports.ENCODING_USED)


def test_missing_columns_and_binary_files_are_refused_clearly(world):
    """A file-level problem is one error naming the file, not a crash."""
    report = world.run("工号,日期\nE1001,2026-03-02\n")
    assert report.errors[0].row is None
    assert "task_type" in report.errors[0].message
    report = world.run(b"\x89PNG\r\n\x1a\n\xff\xfe\xfd" * 100)
    assert not report.ok and report.errors[0].field == "file"
    report = world.run(b"")
    assert problems(report) == [(None, "file", str(imports.FILE_EMPTY))]


def test_file_over_the_limit_is_refused(world):
    """The service refuses a file over ``max_bytes`` before reading it."""
    report = world.run(HEADER + "x" * 2048, max_bytes=1024)
    assert not report.ok
    assert "the limit is" in report.errors[0].message


def test_dry_run_writes_nothing_and_tells_what_it_would_do(world):
    """A dry run reports what it would create and writes nothing, not even the audit."""
    report = world.run(FIXTURES / "work.csv", dry_run=True)
    assert report.ok and report.dry_run and report.created == 5
    assert not WorkRecord.objects.exists()
    assert not AuditEvent.objects.filter(action="work.import").exists()


def test_id_of_another_projects_record_is_a_clash_not_a_skip(world):
    """An external id imported before for another project is an error, never
    silently skipped (ids are unique per source)."""
    other_project, box = make_catalogue(world.park)
    work_record_create(
        worker=world.workers["E1002"],
        project=other_project,
        task_type=box,
        work_date=date(2026, 3, 1),
        units=3,
        accuracy=None,
        source="csv",
        external_id="B-2026-0001",
    )
    report = world.run(FIXTURES / "work.csv")
    assert [(r, f) for r, f, _ in problems(report)] == [(2, "external_id")]
    assert "E1002" in report.errors[0].message
    assert WorkRecord.objects.count() == 1


def test_changed_row_keeps_the_earlier_record_with_a_warning(world):
    """A re-export with other units: the earlier record stays, the report warns."""
    world.run(HEADER + "E1001,drive-2d,box,2026-03-02,10,,C1\n")
    report = world.run(HEADER + "E1001,drive-2d,box,2026-03-02,12,,C1\n")
    assert report.ok and report.unchanged == 1 and report.created == 0
    assert "units" in report.warnings[0].message
    assert WorkRecord.objects.get(external_id="C1").units == 10


def test_work_for_an_approved_period_is_still_imported(world):
    """R13.3: the record goes in; the next open period pays it as late work."""
    director = make_user("director", park=world.park)
    march = periods.period_get_or_create(park=world.park, month=date(2026, 3, 1))
    with TestCase.captureOnCommitCallbacks(execute=True):
        periods.payroll_run_start(period=march, actor=director)
    periods.period_approve(period=march, actor=director)
    report = world.run(FIXTURES / "work.csv")
    assert report.ok and report.created == 5


def test_import_is_audited(world):
    """An import is kept in the audit trail with its counts and park."""
    world.run(FIXTURES / "work.csv")
    event = AuditEvent.objects.get(action="work.import")
    assert event.after["created"] == 5 and event.park == world.park


def test_csv_streams_with_flat_memory(world, monkeypatch):
    """Peak memory does not grow with the file: with batches of 500 rows,
    8,000 rows need less than 1.5 times what 1,000 rows need (streamed,
    staged in the database). bench/import.py shows it for 1,000,000."""
    monkeypatch.setattr(imports, "BATCH", 500)

    def peak(rows: int, tag: str) -> int:
        body = "".join(
            f"E100{1 + n % 3},drive-2d,box,2026-03-{1 + n % 28:02d},{1 + n % 50},"
            f"9{n % 10}.5,{tag}{n}\n"
            for n in range(rows)
        )
        data = (HEADER + body).encode()
        tracemalloc.start()
        tracemalloc.reset_peak()
        report = world.run(data)
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert report.ok and report.created == rows
        return top - len(data)  # the test's own bytes are not the import's

    small = peak(1_000, "s")
    large = peak(8_000, "l")
    assert large < 1.5 * small, (small, large)


# Label Studio


def test_labelstudio_one_record_per_annotation(world):
    """Units are the regions (a region's items share an id; relations are not
    regions; at least 1); cancelled annotations are skipped; the work date is
    the annotation's created_at in the park's time zone."""
    report = world.run(
        FIXTURES / "labelstudio_export.json", fmt="labelstudio", task_type=world.box
    )
    assert report.ok, problems(report)
    assert (report.records, report.created, report.cancelled) == (3, 2, 1)
    first = WorkRecord.objects.get(external_id="qingshui:9001")
    assert first.worker.employee_no == "E1001"
    assert first.units == 3
    # 17:30 UTC on 1 March is 01:30 on 2 March in Asia/Shanghai.
    assert first.work_date == date(2026, 3, 2)
    assert first.source == "labelstudio" and first.accuracy is None
    assert first.task_type == world.box
    second = WorkRecord.objects.get(external_id="qingshui:9003")
    assert (second.worker.employee_no, second.units) == ("E1002", 1)


def test_labelstudio_lead_time_is_never_paid_time(world):
    """lead_time is how long the page was open: it creates no work session."""
    world.run(
        FIXTURES / "labelstudio_export.json", fmt="labelstudio", task_type=world.box
    )
    assert WorkRecord.objects.exists()
    assert not WorkSession.objects.exists()


def test_labelstudio_needs_a_task_type_when_the_project_has_several(world):
    """drive-2d prices box and lane: the import must be told which."""
    report = world.run(FIXTURES / "labelstudio_export.json", fmt="labelstudio")
    assert not report.ok and "task type" in report.errors[0].message
    report = world.run(
        FIXTURES / "labelstudio_export.json", fmt="labelstudio", task_type=world.lane
    )
    assert report.ok and WorkRecord.objects.filter(task_type=world.lane).count() == 2


def test_labelstudio_task_type_defaults_to_the_projects_only_one(world):
    """A project priced for one task type needs no task type named."""
    project, box = make_catalogue(world.park)
    report = world.run(
        FIXTURES / "labelstudio_export.json", fmt="labelstudio", project=project
    )
    assert report.ok and set(
        WorkRecord.objects.values_list("task_type", flat=True)
    ) == {box.pk}


def test_labelstudio_unknown_annotator_names_the_user(world):
    """An annotator mapped to no worker: a clear message, nothing saved."""
    report = world.run(
        FIXTURES / "labelstudio_unknown_annotator.json",
        fmt="labelstudio",
        task_type=world.box,
    )
    assert [(p.row, p.field) for p in report.errors] == [(1, "completed_by")]
    assert "nobody@park.example" in report.errors[0].message
    assert report.errors[0].ref == "task 601, annotation 9102"
    assert not WorkRecord.objects.exists()


def test_labelstudio_malformed_json_names_line_and_column(world):
    """Broken JSON half-way through: the line and column, and nothing saved."""
    report = world.run(
        FIXTURES / "labelstudio_malformed.json", fmt="labelstudio", task_type=world.box
    )
    assert not report.ok
    assert report.errors[0].message.startswith("Malformed JSON at line 11, column")
    assert not WorkRecord.objects.exists()


@pytest.mark.parametrize(
    "content",
    [
        b'{"id": 1}',
        b"[1, 2]",
        b'[{"id": 1, "data": {}}]',
        b'[{"annotations": [{"id": 1, "completed_by": true}]}]',
        b'[{"annotations": [{"id": 1, "completed_by": 17, "result": {}}]}]',
        b'[{"annotations": [{"id": 1, "completed_by": 17, "created_at": "x"}]}]',
        b'[{"annotations": [{"completed_by": 17, "created_at": "2026-03-01"}]}]',
    ],
)
def test_labelstudio_odd_files_are_reported_not_crashed_on(world, content):
    """Wrong shapes anywhere answer a report with the record number."""
    report = world.run(content, fmt="labelstudio", task_type=world.box)
    assert not report.ok and report.errors[0].message
    assert not WorkRecord.objects.exists()


def test_labelstudio_same_export_twice(world):
    """Idempotent: the same export again creates nothing."""
    for _ in range(2):
        report = world.run(
            FIXTURES / "labelstudio_export.json", fmt="labelstudio", task_type=world.box
        )
    assert report.ok and report.created == 0 and report.unchanged == 2


# CVAT


def cvat_records(world):
    world.run(FIXTURES / "work.csv")


def test_cvat_quality_sets_accuracy_of_the_jobs_records(world):
    """summary.accuracy 0.9755 is 97.55 % on the record with id cvat-job-7."""
    cvat_records(world)
    report = world.run(FIXTURES / "cvat_quality_report.json", fmt="cvat-quality")
    assert report.ok, problems(report)
    assert report.updated == 1
    assert WorkRecord.objects.get(external_id="cvat-job-7").accuracy == Decimal("97.55")
    again = world.run(FIXTURES / "cvat_quality_report.json", fmt="cvat-quality")
    assert again.ok and again.updated == 0 and again.unchanged == 1


def test_cvat_job_without_records_is_an_error(world):
    """A job whose work was never imported is an error naming the expected id."""
    report = world.run(FIXTURES / "cvat_quality_report.json", fmt="cvat-quality")
    assert [(p.row, p.field) for p in report.errors] == [(1, "job_id")]
    assert "cvat-job-7" in report.errors[0].message


def test_cvat_assignee_of_another_worker_is_an_error(world):
    """A mapped assignee who is not the records' worker: an error, nothing changed."""
    cvat_records(world)
    worker_identity_create(
        worker=world.workers["E1001"], tool="cvat", external_user="li.hua"
    )
    report = world.run(
        b'{"job_id": 7, "assignee": "li.hua", "summary": {"accuracy": 0.9}}',
        fmt="cvat-quality",
    )
    assert [(p.row, p.field) for p in report.errors] == [(1, "assignee")]
    assert WorkRecord.objects.get(external_id="cvat-job-7").accuracy is None


@pytest.mark.parametrize("accuracy", ["1.5", "-0.1", '"high"', "null", "true"])
def test_cvat_accuracy_must_be_a_fraction(world, accuracy):
    """summary.accuracy outside 0–1, or not a number: an error on that field."""
    cvat_records(world)
    report = world.run(
        f'{{"job_id": 7, "summary": {{"accuracy": {accuracy}}}}}'.encode(),
        fmt="cvat-quality",
    )
    assert [p.field for p in report.errors] == ["summary.accuracy"]


def test_cvat_leaves_records_of_a_locked_period_alone(world):
    """R13.4: accuracy of work in an approved period is not changed; warned."""
    cvat_records(world)
    director = make_user("director", park=world.park)
    march = periods.period_get_or_create(park=world.park, month=date(2026, 3, 1))
    with TestCase.captureOnCommitCallbacks(execute=True):
        periods.payroll_run_start(period=march, actor=director)
    periods.period_approve(period=march, actor=director)
    report = world.run(FIXTURES / "cvat_quality_report.json", fmt="cvat-quality")
    assert report.ok and report.updated == 0 and report.warning_count == 1
    assert WorkRecord.objects.get(external_id="cvat-job-7").accuracy is None


def test_cvat_malformed_json(world):
    """Broken JSON in a quality report: a message with its line."""
    report = world.run(b'{"job_id": 7,, }', fmt="cvat-quality")
    assert report.errors[0].message.startswith("Malformed JSON at line 1")


# The command line


def test_command_imports_and_reports(world, capsys):
    """``import_work`` imports the file and says how many records it created."""
    call_command(
        "import_work",
        str(FIXTURES / "work.csv"),
        "--format",
        "csv",
        "--project",
        "drive-2d",
    )
    out = capsys.readouterr().out
    assert "created 5" in out
    assert WorkRecord.objects.count() == 5


def test_command_dry_run_writes_nothing(world, capsys):
    """``--dry-run`` reports what would be created and writes nothing."""
    call_command(
        "import_work",
        str(FIXTURES / "labelstudio_export.json"),
        "--format=labelstudio",
        "--project=drive-2d",
        "--task-type=box",
        "--dry-run",
    )
    out = capsys.readouterr().out
    assert "would create 2" in out and "dry run" in out
    assert not WorkRecord.objects.exists()


def test_command_lists_every_problem_and_fails(world, capsys):
    """Problems go to stderr, one line each with record and field; the command fails."""
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command(
            "import_work",
            str(FIXTURES / "labelstudio_unknown_annotator.json"),
            "--format=labelstudio",
            "--project=drive-2d",
            "--task-type=box",
        )
    err = capsys.readouterr().err
    assert "record 1 (task 601, annotation 9102), completed_by: Unknown" in err


def test_command_unknown_project_and_ambiguous_code(world):
    """An unknown project, or a code used by two parks without --park: a clear error."""
    with pytest.raises(CommandError, match="Unknown project nope"):
        call_command(
            "import_work", str(FIXTURES / "work.csv"), "--format=csv", "--project=nope"
        )
    other = make_park("otherpark")
    project_create(
        client=world.project.client, park=other, code="drive-2d", name="Other"
    )
    with pytest.raises(CommandError, match="several parks"):
        call_command(
            "import_work",
            str(FIXTURES / "work.csv"),
            "--format=csv",
            "--project=drive-2d",
        )
    call_command(
        "import_work",
        str(FIXTURES / "work.csv"),
        "--format=csv",
        "--project=drive-2d",
        "--park=qingshui",
    )
    assert WorkRecord.objects.count() == 5


def test_identities_in_the_admin_are_normalised(world, client):
    """The admin keeps e-mails lower-case, so imports find them."""
    admin = make_user(username="root")
    admin.is_superuser = admin.is_staff = True
    admin.save()
    client.force_login(admin)
    page = client.get("/admin/payroll/workeridentity/")
    assert page.status_code == 200
    response = client.post(
        "/admin/payroll/workeridentity/add/",
        {
            "tool": "labelstudio",
            "external_user": " Wang.Fang@Park.example ",
            "worker": world.workers["E1003"].pk,
        },
    )
    assert response.status_code == 302
    identity = WorkerIdentity.objects.get(
        worker=world.workers["E1003"], tool="labelstudio"
    )
    assert identity.external_user == "wang.fang@park.example"
    assert identity.created_by == admin
    duplicate = client.post(
        "/admin/payroll/workeridentity/add/",
        {
            "tool": "labelstudio",
            "external_user": "WANG.FANG@park.example",
            "worker": world.workers["E1001"].pk,
        },
    )
    assert duplicate.status_code == 200  # the form, with the unique error
    assert WorkerIdentity.objects.filter(tool="labelstudio").count() == 3
