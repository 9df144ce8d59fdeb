"""A Label Studio JSON export (``labelstudio``), read as a stream of tasks."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from payroll.imports.lookups import (
    Lookups,
    check_record,
    find_annotator,
    tool_identities,
)
from payroll.imports.report import (
    BAD_ANNOTATOR,
    BAD_ID,
    BAD_RESULT,
    BAD_TIMESTAMP,
    FILE_EMPTY,
    MALFORMED_JSON,
    NO_ANNOTATIONS,
    NO_ID,
    NO_TIMESTAMP,
    NOT_A_LIST,
    NOT_AN_OBJECT,
    NOT_TEXT_VALUE,
    UNKNOWN_ANNOTATOR,
    ImportFileError,
    shown,
)
from payroll.imports.text import JsonDepth, has_lone_surrogate
from payroll.models import (
    IdentityTool,
)

# One Label Studio task larger than this is refused (the stream holds one task).
MAX_JSON_ITEM_CHARS = 64 * 2**20


def iter_json_array(text, *, max_item: int = MAX_JSON_ITEM_CHARS) -> Iterator:
    """Yield the items of a top-level JSON list one at a time, holding about
    one item of text at once (``json.JSONDecoder.raw_decode`` over a window
    that moves along the file). Errors name the line and column; text nested
    deeper than ``JSON_MAX_DEPTH`` is refused before it is parsed."""
    decoder = json.JSONDecoder()
    depth = JsonDepth()
    state = {"buf": "", "pos": 0, "eof": False, "lines": 0, "col0": 0}

    def more() -> bool:
        # Drop what was read, remembering its lines for error positions.
        if state["eof"]:
            return False
        chunk = text.read(1 << 16)
        if not chunk:
            state["eof"] = True
            return False
        depth.feed(chunk)
        buf, pos = state["buf"], state["pos"]
        dropped = buf[:pos]
        newlines = dropped.count("\n")
        if newlines:
            state["lines"] += newlines
            state["col0"] = len(dropped) - dropped.rfind("\n") - 1
        else:
            state["col0"] += len(dropped)
        state["buf"], state["pos"] = buf[pos:] + chunk, 0
        return True

    def fail(at: int, message: str):
        before = state["buf"][:at]
        newlines = before.count("\n")
        column = at - before.rfind("\n") if newlines else state["col0"] + at + 1
        raise ImportFileError(
            MALFORMED_JSON
            % {
                "line": state["lines"] + newlines + 1,
                "column": column,
                "error": message,
            }
        )

    def next_char() -> str | None:
        """Skip whitespace; the next character, or None at the end."""
        while True:
            buf, pos = state["buf"], state["pos"]
            while pos < len(buf) and buf[pos] in " \t\r\n":
                pos += 1
            state["pos"] = pos
            if pos < len(buf):
                return buf[pos]
            if not more():
                return None

    first = next_char()
    if first is None:
        raise ImportFileError(FILE_EMPTY)
    if first != "[":
        start = state["buf"][state["pos"] : state["pos"] + 20]
        raise ImportFileError(NOT_A_LIST % {"start": repr(start)})
    state["pos"] += 1
    expect_item = True
    if next_char() == "]":
        expect_item = False
    while True:
        char = next_char()
        if char is None:
            fail(state["pos"], "the list is not closed with ]")
        if not expect_item:
            if char == "]":
                state["pos"] += 1
                if next_char() is not None:
                    fail(state["pos"], "extra data after the list")
                return
            if char != ",":
                fail(state["pos"], "expected , or ]")
            state["pos"] += 1
            if next_char() is None:
                fail(state["pos"], "the list is not closed with ]")
        while True:
            try:
                item, end = decoder.raw_decode(state["buf"], state["pos"])
            except json.JSONDecodeError as exc:
                if len(state["buf"]) - state["pos"] > max_item:
                    fail(state["pos"], "an entry is too large")
                if more():
                    continue
                fail(exc.pos, exc.msg)
            except ValueError:  # a number of thousands of digits
                fail(state["pos"], "a number is too long")
            if end == len(state["buf"]) and more():
                continue  # a number may go on in the next chunk
            break
        state["pos"] = end
        expect_item = False
        yield item


def labelstudio_rows(text, lookups: Lookups, report) -> Iterator[tuple]:
    """One record per annotation of a Label Studio JSON export (docs/imports.md).

    The record number is the task's position in the file."""
    identities = tool_identities(IdentityTool.LABEL_STUDIO, lookups.park)
    tz = ZoneInfo(lookups.park.time_zone)
    park_code = lookups.park.code
    task_type_code = lookups.default_task_type.code if lookups.default_task_type else ""
    for number, task in enumerate(iter_json_array(text), start=1):
        if not isinstance(task, dict):
            report.records += 1
            report.error(number, "", NOT_AN_OBJECT)
            continue
        if has_lone_surrogate(task):
            report.records += 1
            report.error(number, "", NOT_TEXT_VALUE)
            continue
        task_ref = f"task {shown(task.get('id', '?'))}"
        annotations = task.get("annotations")
        if not isinstance(annotations, list):
            report.records += 1
            report.error(number, "annotations", NO_ANNOTATIONS, task_ref)
            continue
        for annotation in annotations:
            report.records += 1
            if not isinstance(annotation, dict):
                report.error(number, "annotations", NOT_AN_OBJECT, task_ref)
                continue
            ref = f"{task_ref}, annotation {shown(annotation.get('id', '?'))}"
            if annotation.get("was_cancelled"):
                report.cancelled += 1
                continue
            staged = _labelstudio_record(
                lookups,
                report,
                identities,
                tz,
                number=number,
                ref=ref,
                annotation=annotation,
                park_code=park_code,
                task_type_code=task_type_code,
            )
            if staged is not None:
                yield staged


def _labelstudio_record(
    lookups,
    report,
    identities,
    tz,
    *,
    number,
    ref,
    annotation,
    park_code,
    task_type_code,
):
    annotation_id = annotation.get("id")
    if annotation_id is None:
        report.error(number, "id", NO_ID, ref)
        return None
    annotation_id = _positive_id(annotation_id)
    if annotation_id is None:
        report.error(number, "id", BAD_ID, ref)
        return None
    worker, who = find_annotator(annotation.get("completed_by"), identities)
    if who is None:
        report.error(number, "completed_by", BAD_ANNOTATOR, ref)
        return None
    bad = False
    if worker is None:
        report.error(
            number,
            "completed_by",
            UNKNOWN_ANNOTATOR % {"tool": "Label Studio", "user": who},
            ref,
        )
        bad = True
    result = annotation.get("result") or []
    if not isinstance(result, list):
        report.error(number, "result", BAD_RESULT, ref)
        return None
    work_date = None
    stamp = annotation.get("created_at") or annotation.get("updated_at")
    if not stamp:
        report.error(number, "created_at", NO_TIMESTAMP, ref)
        bad = True
    else:
        work_date = _local_date(stamp, tz)
        if work_date is None:
            report.error(
                number, "created_at", BAD_TIMESTAMP % {"value": shown(stamp)}, ref
            )
            bad = True
    return check_record(
        lookups,
        report,
        number,
        ref,
        bad,
        worker,
        "",
        task_type_code,
        work_date,
        region_count(result),
        None,
        f"{park_code}:{annotation_id}",
    )


def region_count(result: list) -> int:
    """Units of a Label Studio annotation: its regions, at least 1.

    Result items of one region share an ``id`` (a box and its label, or its
    transcription); relations between regions are not regions."""
    regions = set()
    loose = 0
    for item in result:
        if not isinstance(item, dict) or item.get("type") == "relation":
            continue
        region = item.get("id")
        if region is None:
            loose += 1
        else:
            regions.add(str(region))
    return max(1, len(regions) + loose)


def _positive_id(value) -> int | None:
    """A Label Studio id: a whole number of 1 or more (as a JSON number, or
    its digits in a string); never a bool, a fraction, NaN or infinity."""
    if isinstance(value, str):
        value = value.strip()
        if not (value.isascii() and value.isdigit() and len(value) <= 18):
            return None
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if 1 <= value < 2**63 else None


def _local_date(stamp, tz):
    """The park's date of a Label Studio timestamp; ``None`` when it is not
    one, or falls outside the calendar once in the park's time zone."""
    moment = _parse_timestamp(stamp)
    if moment is None:
        return None
    try:
        return moment.astimezone(tz).date()
    except (OverflowError, ValueError):
        return None


def _parse_timestamp(value) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:  # Label Studio writes UTC
        moment = moment.replace(tzinfo=UTC)
    return moment
