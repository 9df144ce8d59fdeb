"""A Label Studio JSON export (``labelstudio``), read as a stream of tasks."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
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
    DELETED_USER,
    FILE_EMPTY,
    MALFORMED_JSON,
    MAX_LISTED,
    NO_ANNOTATIONS,
    NO_ID,
    NO_TIMESTAMP,
    NOT_A_LIST,
    NOT_AN_OBJECT,
    NOT_TEXT_VALUE,
    ONLY_PREDICTIONS,
    UNKNOWN_ANNOTATOR,
    ImportFileError,
    shown,
)
from payroll.imports.text import JsonDepth, has_lone_surrogate
from payroll.models import (
    IdentityTool,
)

# A review that rejected the annotation puts it in the lowest tier.
REJECTED_ACCURACY = Decimal("0.00")

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


class UnitRule(StrEnum):
    """What one annotation is worth (a project's rule)."""

    REGIONS = "regions"  # each region drawn or transcribed: a unit
    TASKS = "tasks"  # each annotated task: one unit


class PredictionPolicy(StrEnum):
    """How pre-annotations accepted unchanged (``origin: prediction``) count."""

    PAY = "pay"  # paid like the annotator's own regions (and shown apart)
    SKIP = "skip"  # not paid: only regions drawn or changed by hand are


@dataclass(frozen=True)
class LabelStudioRules:
    """How a Label Studio import reads its annotations.

    ``namespace`` prefixes external ids (``NAMESPACE:annotation id``): the
    park's code for files imported without a connector, ``c<id>`` for a
    connector's server, so that two servers' ids never meet. ``connector_id``
    chooses the annotator mappings (:func:`tool_identities`)."""

    unit_rule: str = UnitRule.REGIONS
    predictions: str = PredictionPolicy.PAY
    namespace: str = ""
    connector_id: int | None = None


# JSON-MIN keys that are not results (label_studio_sdk/converter/converter.py,
# ``convert_to_json_min``); a result is named by its control tag.
JSON_MIN_KEYS = frozenset(
    {"id", "annotator", "annotation_id", "created_at", "updated_at", "lead_time"}
)
# A JSON-MIN value is a region when it has a place (rectangle, polygon, span).
_REGION_KEYS = frozenset({"x", "y", "points", "start", "end", "globalOffsets"})


def labelstudio_rows(
    text, lookups: Lookups, report, rules: LabelStudioRules | None = None
) -> Iterator[tuple]:
    """One record per annotation of a Label Studio JSON or JSON-MIN export
    (docs/imports.md). The record number is the entry's position in the file."""
    yield from labelstudio_task_rows(iter_json_array(text), lookups, report, rules)


def labelstudio_task_rows(
    tasks, lookups: Lookups, report, rules: LabelStudioRules | None = None
) -> Iterator[tuple]:
    """The records of ``tasks`` (parsed export entries or API tasks)."""
    rules = rules or LabelStudioRules()
    identities = tool_identities(
        IdentityTool.LABEL_STUDIO, lookups.park, rules.connector_id
    )
    tz = ZoneInfo(lookups.park.time_zone)
    namespace = rules.namespace or lookups.park.code
    task_type_code = lookups.default_task_type.code if lookups.default_task_type else ""
    context = (lookups, report, identities, tz, rules, namespace, task_type_code)
    for number, task in enumerate(tasks, start=1):
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
            if "annotation_id" in task and "annotator" in task:
                report.records += 1
                staged = _json_min_record(context, number, task_ref, task)
                if staged is not None:
                    yield staged
                continue
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
                _unpaid(report, namespace, annotation)
                continue
            if annotation.get("ground_truth") is True:
                # A reviewer's reference answer, not work to pay.
                report.ground_truth += 1
                _unpaid(report, namespace, annotation)
                continue
            staged = _labelstudio_record(context, number, ref, annotation)
            if staged is not None:
                yield staged


def _unpaid(report, namespace, annotation) -> None:
    annotation_id = _positive_id(annotation.get("id"))
    if annotation_id is not None and len(report.unpaid_ids) < MAX_LISTED:
        report.unpaid_ids.append(f"{namespace}:{annotation_id}")


def is_rejected(annotation: dict) -> bool:
    """Whether the annotation's latest review rejected it (Label Studio
    Enterprise: ``last_action``, and ``reviews[]`` each with ``accepted``)."""
    action = annotation.get("last_action")
    if action == "rejected":
        return True
    if action in ("accepted", "fixed_and_accepted"):
        return False
    reviews = [r for r in annotation.get("reviews") or [] if isinstance(r, dict)]
    if not reviews:
        return False
    latest = max(
        enumerate(reviews),
        key=lambda item: (str(item[1].get("created_at") or ""), item[0]),
    )[1]
    return latest.get("accepted") is False


def _annotator(context, number, ref, value, field_name):
    """The worker of a Label Studio user, or None (reported or skipped)."""
    _lookups, report, identities = context[:3]
    if value is None:
        report.skip(number, field_name, DELETED_USER, ref)
        return None, False
    worker, who = find_annotator(value, identities)
    if who is None:
        report.error(number, field_name, BAD_ANNOTATOR, ref)
        return None, False
    if worker is None:
        report.skip(
            number,
            field_name,
            UNKNOWN_ANNOTATOR % {"tool": "Label Studio", "user": who},
            ref,
        )
        return None, not report.skip_unmatched
    return worker, True


def _labelstudio_record(context, number, ref, annotation):
    lookups, report, _identities, tz, rules, namespace, task_type_code = context
    annotation_id = annotation.get("id")
    if annotation_id is None:
        report.error(number, "id", NO_ID, ref)
        return None
    annotation_id = _positive_id(annotation_id)
    if annotation_id is None:
        report.error(number, "id", BAD_ID, ref)
        return None
    worker, go_on = _annotator(
        context, number, ref, annotation.get("completed_by"), "completed_by"
    )
    if worker is None and not go_on:
        return None
    bad = worker is None
    result = annotation.get("result") or []
    if not isinstance(result, list):
        report.error(number, "result", BAD_RESULT, ref)
        return None
    own, predicted = region_counts(result)
    units = _units(report, rules, own, predicted)
    if units == 0:
        report.leave_out(number, "result", ONLY_PREDICTIONS, ref)
        return None
    accuracy = None
    if is_rejected(annotation):
        # The rejected tier (R4.2: the lowest band, x0.00): paid nothing, and
        # the payslip's zero line shows the worker why (R5).
        accuracy = REJECTED_ACCURACY
        report.rejected += 1
    work_date, bad = _work_date(report, tz, number, ref, annotation, bad)
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
        units,
        accuracy,
        f"{namespace}:{annotation_id}",
    )


def _json_min_record(context, number, ref, record):
    """A JSON-MIN record: one annotation, its annotator an e-mail or an id.
    JSON-MIN carries no review, ground-truth or pre-annotation marks."""
    lookups, report, _identities, tz, rules, namespace, task_type_code = context
    annotation_id = _positive_id(record.get("annotation_id"))
    ref = f"{ref}, annotation {shown(record.get('annotation_id', '?'))}"
    if annotation_id is None:
        report.error(number, "annotation_id", BAD_ID, ref)
        return None
    worker, go_on = _annotator(
        context, number, ref, record.get("annotator"), "annotator"
    )
    if worker is None and not go_on:
        return None
    bad = worker is None
    units = 1
    if rules.unit_rule == UnitRule.REGIONS:
        units = max(
            1,
            sum(
                _min_regions(value)
                for key, value in record.items()
                if key not in JSON_MIN_KEYS
            ),
        )
    work_date, bad = _work_date(report, tz, number, ref, record, bad)
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
        units,
        None,
        f"{namespace}:{annotation_id}",
    )


def _min_regions(value) -> int:
    if isinstance(value, dict):
        return 1 if _REGION_KEYS & value.keys() else 0
    if isinstance(value, list):
        return sum(
            1 for item in value if isinstance(item, dict) and _REGION_KEYS & item.keys()
        )
    return 0


def _units(report, rules, own: int, predicted: int) -> int:
    """Units of an annotation by the project's rules; counts pre-annotated
    units apart in the report."""
    if rules.unit_rule == UnitRule.TASKS:
        if own == 0 and predicted:  # the whole task a pre-annotation
            report.predicted_units += 1
            return 1 if rules.predictions == PredictionPolicy.PAY else 0
        return 1
    report.predicted_units += predicted
    if rules.predictions == PredictionPolicy.PAY:
        return max(1, own + predicted)
    return own if predicted else max(1, own)


def _work_date(report, tz, number, ref, annotation, bad):
    stamp = annotation.get("created_at") or annotation.get("updated_at")
    if not stamp:
        report.error(number, "created_at", NO_TIMESTAMP, ref)
        return None, True
    work_date = _local_date(stamp, tz)
    if work_date is None:
        report.error(number, "created_at", BAD_TIMESTAMP % {"value": shown(stamp)}, ref)
        return None, True
    return work_date, bad


def region_count(result: list) -> int:
    """Units of a Label Studio annotation: its regions, at least 1."""
    own, predicted = region_counts(result)
    return max(1, own + predicted)


def region_counts(result: list) -> tuple[int, int]:
    """(regions drawn or changed by hand, regions of a pre-annotation
    accepted unchanged) of an annotation's result.

    Result items of one region share an ``id`` (a box and its label, or its
    transcription); relations between regions are not regions. Label Studio
    marks each item's ``origin``: ``manual``, ``prediction`` (accepted as the
    model drew it) or ``prediction-changed``."""
    regions: dict[str, bool] = {}
    loose_own = loose_predicted = 0
    for item in result:
        if not isinstance(item, dict) or item.get("type") == "relation":
            continue
        predicted = item.get("origin") == "prediction"
        region = item.get("id")
        if region is None:
            if predicted:
                loose_predicted += 1
            else:
                loose_own += 1
        else:
            key = str(region)
            regions[key] = regions.get(key, True) and predicted
    predicted_regions = sum(1 for p in regions.values() if p)
    own = len(regions) - predicted_regions + loose_own
    return own, predicted_regions + loose_predicted


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
