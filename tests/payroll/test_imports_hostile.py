"""Hostile files get a clear report, never an exception: huge numbers,
deep JSON, timestamps at the end of time, lone surrogates, binary tails and
ids that are not Label Studio's positive integers."""

import json

import pytest

from payroll import imports
from payroll.imports.report import BAD_ID, BAD_UNITS, JSON_TOO_DEEP, NOT_TEXT_VALUE
from tests.payroll.test_imports import FIXTURES, HEADER, World, problems

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db):
    return World()


def row(units="10", external_id="R1", day="2026-03-02"):
    return f"E1001,drive-2d,box,{day},{units},97.5,{external_id}\n"


@pytest.mark.parametrize(
    "units", [str(2**31), str(2**63), "9" * 5000, "-" + "9" * 5000]
)
def test_huge_units_are_a_row_error_naming_the_field(world, units):
    report = world.run(HEADER + row(units))
    assert [(r, f) for r, f, _m in problems(report)] == [(2, "units")]


def test_thousands_of_digits_in_a_date_or_accuracy(world):
    report = world.run(
        HEADER
        + row(day="9" * 5000 + "-01-01")
        + row(external_id="R2").replace("97.5", "9" * 5000)
    )
    assert [(r, f) for r, f, _m in problems(report)] == [
        (2, "work_date"),
        (3, "accuracy"),
    ]


def test_binary_after_the_first_64_kb_is_a_file_error(world):
    rows = "".join(row(external_id=f"R{n}") for n in range(2000))
    assert len(rows) > 1 << 16
    content = (HEADER + rows).encode() + bytes(range(256)) * 64
    report = world.run(content)
    assert [(r, f) for r, f, _m in problems(report)] == [(None, "file")]


def labelstudio(annotation: dict) -> str:
    base = {
        "id": 9001,
        "completed_by": 17,
        "created_at": "2026-03-02T02:00:00Z",
        "result": [],
    }
    base.update(annotation)
    return json.dumps([{"id": 1, "annotations": [base]}])


@pytest.mark.parametrize("fmt", ["labelstudio", "cvat-quality"])
def test_json_nested_100000_deep_is_a_file_error(world, fmt):
    deep = "[" * 100_000 + "]" * 100_000
    for content in (deep, "[" + deep + "]", '[{"a": ' + deep + "}]"):
        report = world.run(content, fmt=fmt, task_type=world.box)
        assert problems(report) == [(None, "file", str(JSON_TOO_DEEP % {"max": 64}))]


@pytest.mark.parametrize(
    "stamp", ["9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+14:00", "9999-12-31"]
)
def test_timestamps_at_the_ends_of_time_are_row_errors(world, stamp):
    """Out of the datetime range once in the park's time zone, or a work date
    far past today: the row's error, not an OverflowError."""
    report = world.run(
        labelstudio({"created_at": stamp}), fmt="labelstudio", task_type=world.box
    )
    assert [r for r, _f, _m in problems(report)] == [1]
    assert problems(report)[0][1] in {"created_at", "work_date"}


@pytest.mark.parametrize("field", ["id", "completed_by", "created_at", "result"])
def test_lone_surrogates_are_row_errors(world, field):
    """A lone surrogate (valid JSON, not text) is refused with the task; the
    report can be written as UTF-8 (the API's JSON)."""
    value = [{"id": "\ud800"}] if field == "result" else "\ud800"
    report = world.run(
        labelstudio({field: value}), fmt="labelstudio", task_type=world.box
    )
    assert problems(report) == [(1, "", str(NOT_TEXT_VALUE))]
    json.dumps(report.as_dict(), ensure_ascii=False).encode()


def test_a_number_of_thousands_of_digits_is_a_file_error(world):
    content = labelstudio({}).replace('"id": 9001', '"id": 1' + "0" * 5000)
    report = world.run(content, fmt="labelstudio", task_type=world.box)
    assert [(r, f) for r, f, _m in problems(report)] == [(None, "file")]
    report = world.run('{"job_id": 1' + "0" * 5000 + "}", fmt="cvat-quality")
    assert [(r, f) for r, f, _m in problems(report)] == [(None, "file")]


@pytest.mark.parametrize(
    "raw", ["NaN", "Infinity", "-Infinity", "1.5", "true", "0", "-3", '"abc"', "1e400"]
)
def test_labelstudio_ids_are_positive_integers(world, raw):
    content = labelstudio({}).replace('"id": 9001', f'"id": {raw}')
    report = world.run(content, fmt="labelstudio", task_type=world.box)
    assert problems(report) == [(1, "id", str(BAD_ID))]


def test_labelstudio_id_as_digits_in_a_string_is_accepted(world):
    content = labelstudio({"id": "9001"})
    report = world.run(content, fmt="labelstudio", task_type=world.box)
    assert report.ok, problems(report)


def test_a_surrogate_in_a_csv_is_not_text(world):
    report = world.run(
        HEADER.encode() + b"E1001,drive-2d,box,2026-03-02,1,,\xed\xa0\x80\n"
    )
    assert [(r, f) for r, f, _m in problems(report)] == [(None, "file")]


def test_fixture_still_imports(world):
    report = world.run(
        FIXTURES / "labelstudio_export.json", fmt="labelstudio", task_type=world.box
    )
    assert report.ok, problems(report)
    assert str(BAD_UNITS)  # the message stays
    assert imports.FORMATS


@pytest.mark.parametrize("fmt", ["csv", "labelstudio", "cvat-quality"])
@pytest.mark.parametrize("content", [b"\xc2", b"\x80", b"[" + b"\xe4\xb8" * 3])
def test_a_cut_multibyte_character_is_a_file_error(world, fmt, content):
    """Found by the fuzz test: bytes that end inside a character (an
    UnicodeDecodeError while reading)."""
    report = world.run(content, fmt=fmt, task_type=world.box)
    assert [(r, f) for r, f, _m in problems(report)] == [(None, "file")]
