"""Imports through the API (POST /api/v1/imports/): who may import where, and
a clear answer, never a 500, for every kind of bad file."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from payroll import imports
from payroll.models import WorkRecord
from tests.payroll.api_world import ROLES

pytestmark = pytest.mark.django_db
URL = "/api/v1/imports/"
HEADER = "工号,项目,任务类型,日期,数量,准确率,外部编号\n"


def csv_file(world, rows=1, tag="api", name="work.csv", bom=True) -> SimpleUploadedFile:
    worker, project = world.a.worker, world.a.project
    body = "".join(
        f"{worker.employee_no},{project.code},box,2026-03-0{1 + n % 9},{10 + n},"
        f"97.5,{tag}-{n}\n"
        for n in range(rows)
    )
    data = ("\ufeff" if bom else "") + HEADER + body
    return SimpleUploadedFile(name, data.encode(), content_type="text/csv")


def post(client, file, project, fmt="csv", **extra):
    return client.post(
        URL,
        {"file": file, "format": fmt, "project": project.code, **extra},
        format="multipart",
    )


@pytest.mark.parametrize("role", ROLES)
def test_who_may_import(world, role):
    """The park's director, payroll officer and integration import; another
    park's staff or integration does not know the project (400); workers,
    trainers and county officials may not import (403)."""
    response = post(world.client(role), csv_file(world), world.a.project)
    status = {
        "anonymous": 401,
        "director": 201,
        "officer": 201,
        "integration": 201,
        "other_director": 400,
        "other_integration": 400,
    }.get(role, 403)
    assert response.status_code == status, response.content
    created = WorkRecord.objects.filter(external_id="api-0").exists()
    assert created == (status == 201)
    if status == 400:
        assert "project" in response.json()


def test_report_of_a_good_import(world):
    """201 with the report; the same file again creates nothing (201, 0)."""
    client = world.client("integration")
    first = post(client, csv_file(world, rows=5), world.a.project)
    assert first.status_code == 201
    data = first.json()
    assert (data["ok"], data["records"], data["created"]) == (True, 5, 5)
    second = post(client, csv_file(world, rows=5), world.a.project)
    assert (second.json()["created"], second.json()["unchanged"]) == (0, 5)


def test_bad_row_is_a_400_report_and_nothing_is_saved(world):
    """One bad row: 400 with the report naming row 3; the good row is not
    saved either."""
    file = SimpleUploadedFile(
        "bad.csv",
        (
            HEADER
            + f"{world.a.worker.employee_no},,box,2026-03-02,5,,ok-1\n"
            + f"{world.a.worker.employee_no},,box,2026-03-02,0,,bad-1\n"
        ).encode(),
    )
    response = post(world.client("director"), file, world.a.project)
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert [(e["row"], e["field"]) for e in errors] == [(3, "units")]
    assert not WorkRecord.objects.filter(external_id__in=["ok-1", "bad-1"]).exists()


def test_dry_run_is_200_and_writes_nothing(world):
    """``dry_run``: 200 with what would be created; nothing is written."""
    response = post(
        world.client("officer"), csv_file(world, rows=3), world.a.project, dry_run=True
    )
    assert response.status_code == 200
    assert response.json()["created"] == 3 and response.json()["dry_run"]
    assert not WorkRecord.objects.filter(external_id__startswith="api-").exists()


def test_fifty_megabyte_file_is_refused_with_a_clear_message(world):
    """Over IMPORT_MAX_UPLOAD_BYTES (20 MB by default): 413 naming the limit."""
    big = SimpleUploadedFile("big.csv", HEADER.encode() + b"x" * (50 * 2**20))
    response = post(world.client("director"), big, world.a.project)
    assert response.status_code == 413
    assert "the limit is 20 MB" in response.json()["detail"]


@override_settings(IMPORT_MAX_UPLOAD_BYTES=1024)
def test_limit_comes_from_the_settings(world):
    """IMPORT_MAX_UPLOAD_BYTES sets the limit; the message names it."""
    response = post(
        world.client("director"), csv_file(world, rows=200), world.a.project
    )
    assert response.status_code == 413
    assert "the limit is 1 KB" in response.json()["detail"]


def test_malformed_json_is_a_400_naming_line_and_column(world):
    """Broken JSON: 400 with the line and column, never a 500."""
    file = SimpleUploadedFile("ls.json", b'[{"id": 1, "annotations": [}]')
    response = post(
        world.client("director"),
        file,
        world.a.project,
        fmt="labelstudio",
        task_type="box",
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"].startswith(
        "Malformed JSON at line 1, column 28"
    )


def test_unknown_annotator_is_a_400_naming_the_user(world):
    """A Label Studio user mapped to no worker: 400 naming the user."""
    file = SimpleUploadedFile(
        "ls.json",
        b'[{"id": 1, "annotations": [{"id": 5, "completed_by": 404, "result": [],'
        b' "created_at": "2026-03-02T01:00:00Z"}]}]',
    )
    response = post(world.client("director"), file, world.a.project, fmt="labelstudio")
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["field"] == "completed_by" and "404" in error["message"]


def test_labelstudio_through_the_api(world):
    """The world's worker is Label Studio user parka-17."""
    file = SimpleUploadedFile(
        "ls.json",
        b'[{"id": 1, "annotations": [{"id": 5, "completed_by": "parka-17",'
        b' "result": [{"id": "a"}, {"id": "b"}], "lead_time": 9999,'
        b' "created_at": "2026-03-02T01:00:00Z"}]}]',
    )
    response = post(
        world.client("integration"), file, world.a.project, fmt="labelstudio"
    )
    assert response.status_code == 201, response.content
    record = WorkRecord.objects.get(external_id="parka:5")
    assert (record.worker, record.units) == (world.a.worker, 2)


def test_unknown_project_and_task_type_are_400(world):
    """An unknown project or task type: 400 on that field."""
    client = world.client("director")
    response = client.post(
        URL, {"file": csv_file(world), "format": "csv", "project": "nope"}
    )
    assert response.status_code == 400
    assert response.json()["project"] == [
        str(imports.UNKNOWN_PROJECT_ANY % {"project": "nope"})
    ]
    response = post(client, csv_file(world), world.a.project, task_type="nope")
    assert response.status_code == 400 and "task_type" in response.json()


def test_missing_file_or_unknown_format_is_400(world):
    """The form itself: no file or an unknown format is a 400 on that field."""
    client = world.client("director")
    response = client.post(URL, {"format": "csv", "project": world.a.project.code})
    assert response.status_code == 400 and "file" in response.json()
    response = post(client, csv_file(world), world.a.project, fmt="excel")
    assert response.status_code == 400 and "format" in response.json()


def test_binary_file_is_a_400_not_a_500(world):
    """A picture named .csv: 400 with a file-level message."""
    file = SimpleUploadedFile("photo.csv", bytes(range(256)) * 64)
    response = post(world.client("director"), file, world.a.project)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "file"


def test_upload_larger_than_memory_goes_through_a_temporary_file(world):
    """Over Django's 2.5 MB in-memory limit the upload is a temporary file;
    the import streams it just the same."""
    worker, project = world.a.worker, world.a.project
    note = "备注" * 400
    body = "".join(
        f"{worker.employee_no},{project.code},box,2026-03-02,5,,big-{n},{note}\n"
        for n in range(1_500)
    )
    data = (HEADER.rstrip("\n") + ",备注\n" + body).encode()
    assert len(data) > 2.5 * 2**20
    response = post(
        world.client("director"), SimpleUploadedFile("big.csv", data), project
    )
    assert response.status_code == 201, response.content[:500]
    assert response.json()["created"] == 1_500
    assert response.json()["warnings"][0]["field"] == "备注"


def test_missing_trailing_slash_still_redirects(world):
    """APPEND_SLASH still redirects; any other address under /api/v1/ is a JSON 404."""
    response = world.client("director").get("/api/v1/workers")
    assert response.status_code == 301
    assert world.client("director").get("/api/v1/nothing/").status_code == 404


def test_messages_are_chinese_by_default(world):
    """Without the language switch the API answers in Chinese, like the pages."""
    response = post(
        world.client("director", language="zh-hans"),
        SimpleUploadedFile("ls.json", b'[{"id": 1 "x"}]'),
        world.a.project,
        fmt="labelstudio",
        task_type="box",
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"].startswith("JSON 格式错误")
