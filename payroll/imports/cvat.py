"""CVAT: quality reports (``cvat-quality``) and the work of jobs.

Quality: accuracy for records already imported, by job (docs/cvat.md). CVAT
lists reports newest first and mixes in task and project reports; a job's
newest report (by ``created_date``) sets its accuracy; task and project
reports are skipped; a report of a job without validation frames leaves it
pending review (CVAT writes ``valid_count / (total_count or 1)``, so 0.0, for
a job nobody could check). Both shapes are read: an entry of the report list
(``summary``, ``cvat/apps/quality_control/serializers.py``) and the report
download ``/api/quality/reports/{id}/data`` (``comparison_summary``).

Work: one record per job with an assignee, its units counted from the job's
annotations (:func:`job_units`), keyed ``cvat-job-<job id>``: the same id
the quality reports look for, so a job's accuracy finds its work. Read from
CVAT's API (``payroll.connectors.cvat``) or from a job's "CVAT for images 1.1"
XML export (:func:`read_cvat_xml`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from payroll.imports.lookups import (
    Lookups,
    check_record,
    find_annotator,
    tool_identities,
)
from payroll.imports.report import (
    BAD_CVAT_ACCURACY,
    BAD_TIMESTAMP,
    CVAT_LOCKED,
    CVAT_OTHER_WORKER,
    MALFORMED_JSON,
    NO_CVAT_RECORDS,
    NO_ID,
    NO_REPORTS,
    NOT_AN_OBJECT,
    NOT_TEXT,
    NOT_TEXT_VALUE,
    NUL_CHARACTER,
    UNKNOWN_ANNOTATOR,
    ImportFileError,
    ImportReport,
    shown,
)
from payroll.imports.text import JsonDepth, Text, detect_encoding, has_lone_surrogate
from payroll.imports.writer import Writer, finish_import
from payroll.models import (
    LOCKED_STATUSES,
    IdentityTool,
    PayPeriod,
    Project,
    TaskType,
    WorkRecord,
)
from workforce.models import Worker

CVAT_PREFIX = "cvat-job-"
SOURCE = "cvat"

# How a track (one object followed over frames) is counted: once per frame
# it is visible in, or once (the project's rule).
TRACKS_AS_FRAMES = "frames"
TRACKS_AS_OBJECTS = "objects"
TRACK_RULES = (TRACKS_AS_FRAMES, TRACKS_AS_OBJECTS)

# The shapes of CVAT's annotation formats (cvat/apps/dataset_manager/formats/
# cvat.py); a skeleton's points are parts of it, not shapes of their own.
XML_SHAPES = frozenset(
    {"box", "polygon", "polyline", "points", "ellipse", "mask", "cuboid", "skeleton"}
)
# A CVAT export holds a few elements per annotation; a file of the upload
# limit holds far fewer than this.
MAX_XML_ELEMENTS = 5_000_000

# Messages that tests check (STYLE: module-level constants).
CVAT_NOT_A_JOB_REPORT = _(
    "A %(target)s report, not a job's: skipped (work is paid per job)."
)
CVAT_NOT_REVIEWED = _(
    "Job %(job)s had no validation frames when its newest report was made: it "
    "stays pending review (paid at 1.00), not an accuracy of 0."
)
# CVAT's report targets other than a job, as messages name them.
REPORT_TARGETS = {"task": _("task"), "project": _("project")}
CVAT_UNORDERED = _(
    "Job %(job)s has several reports that cannot be told apart by "
    "created_date or id: keep only the newest."
)
BAD_CVAT_DATA_ACCURACY = _(
    "comparison_summary.annotations.accuracy must be a fraction from 0 to 1, "
    "such as 0.975; got %(value)s."
)
CVAT_NO_ASSIGNEE = _("Job %(job)s has no assignee: nobody to pay for it.")
CVAT_NOT_ACCEPTED = _(
    "Job %(job)s is at stage %(stage)s, state %(state)s: only accepted jobs "
    "(stage acceptance, state completed) are paid."
)
CVAT_GROUND_TRUTH = _(
    "Job %(job)s is a ground-truth job: it is the reference for quality "
    "checks, not work to pay."
)
CVAT_NO_UNITS = _("Job %(job)s holds no annotations: no units to pay.")
CVAT_NO_DATE = _("Job %(job)s has no date of its last change (updated_date).")
XML_MALFORMED = _("Malformed XML at line %(line)s, column %(column)s: %(error)s.")
XML_FORBIDDEN = _(
    "The XML declares a document type or entities, which a CVAT export never "
    "does: the file is refused."
)
XML_NOT_CVAT = _(
    "This is not a job's export in the format CVAT for images 1.1: %(reason)s."
)
XML_TASK_EXPORT = _(
    "This is a task's export: export each job instead (Export job dataset, "
    "CVAT for images 1.1), which names the job's assignee."
)
XML_TOO_MANY = _("The XML holds more than %(max)s elements: split the export.")
BAD_TRACK_RULE = _("Unknown rule for tracks %(rule)s: use frames or objects.")


# Quality reports


def import_cvat(file, project: Project, report: ImportReport, *, dry_run: bool):
    """The ``cvat-quality`` file: a report download, a list of reports or a
    page of CVAT's report list (``{"results": [...]}``)."""
    encoding, _is_gb = detect_encoding(file)
    with Text(file, encoding) as text:
        try:
            content = text.read()  # bounded: the upload limit
        except UnicodeDecodeError as exc:
            raise ImportFileError(NOT_TEXT % {"position": exc.start}) from exc
    JsonDepth().feed(content)
    try:
        data = json.loads(content)
    except json.JSONDecodeError as exc:
        raise ImportFileError(
            MALFORMED_JSON % {"line": exc.lineno, "column": exc.colno, "error": exc.msg}
        ) from exc
    except ValueError as exc:  # a number of thousands of digits
        raise ImportFileError(
            MALFORMED_JSON
            % {"line": "?", "column": "?", "error": "a number is too long"}
        ) from exc
    del content
    if isinstance(data, dict) and isinstance(data.get("results"), list):
        data = data["results"]  # a page of CVAT's report list
    reports = data if isinstance(data, list) else [data]
    if not reports:
        raise ImportFileError(NO_REPORTS)
    import_cvat_reports(reports, project, report, dry_run=dry_run)


@dataclass
class _Plan:
    number: int
    job: str
    ref: str
    accuracy: Decimal | None  # None: no validation frames, not reviewed
    assignee: tuple[int, int] | None
    who: str | None
    created: datetime | None
    report_id: int | None


def import_cvat_reports(
    reports: list,
    project: Project,
    report: ImportReport,
    *,
    dry_run: bool,
    source: str | None = None,
    identities: dict[str, tuple[int, int]] | None = None,
    namespace: str = "",
) -> None:
    """Set the accuracy of each job's records from its newest report.

    ``reports`` as CVAT writes them (a file's entries, or the pages pulled by
    the connector), in any order. All or nothing, like a file. ``source``
    limits the records to one source (a connector's, where a park has two
    CVAT servers whose job ids meet); ``identities`` replaces the park's
    CVAT identities (a connector's own); ``namespace`` is the prefix of the
    records' external ids (a connector's ``c<id>:``)."""
    if identities is None:
        identities = tool_identities(IdentityTool.CVAT, project.park_id)
    by_job: dict[str, list[_Plan]] = {}
    for number, entry in enumerate(reports, start=1):
        report.records += 1
        plan = _cvat_entry(number, entry, report, identities)
        if plan is not None:
            by_job.setdefault(plan.job, []).append(plan)
    plans = []
    for job, candidates in by_job.items():
        newest = _newest(candidates)
        if newest is None:
            last = max(candidates, key=lambda p: p.number)
            report.error(last.number, "created_date", CVAT_UNORDERED % {"job": job})
            continue
        if newest.accuracy is None:
            report.warn(
                newest.number, "summary", CVAT_NOT_REVIEWED % {"job": job}, newest.ref
            )
            continue
        plans.append(newest)
    plans.sort(key=lambda p: p.number)
    _apply_accuracies(
        plans, project, report, dry_run=dry_run, source=source, namespace=namespace
    )


def _newest(plans: list[_Plan]) -> _Plan | None:
    """The newest report of a job: by ``created_date``, then by id (CVAT's ids
    grow); never by position (CVAT lists newest first). ``None`` when that
    cannot be told and the reports disagree."""
    if len(plans) == 1:
        return plans[0]
    if all(p.created is not None for p in plans):

        def key(p):
            return (p.created, -1 if p.report_id is None else p.report_id)

    elif all(p.report_id is not None for p in plans):

        def key(p):
            return (p.report_id,)

    else:
        first = plans[0].accuracy
        return plans[0] if all(p.accuracy == first for p in plans) else None
    ordered = sorted(plans, key=key, reverse=True)
    if (
        key(ordered[0]) == key(ordered[1])
        and ordered[0].accuracy != ordered[1].accuracy
    ):
        return None
    return ordered[0]


def _apply_accuracies(plans, project, report, *, dry_run, source=None, namespace=""):
    records_by_job = _cvat_records(project, [p.job for p in plans], source, namespace)
    locked = {
        (month.year, month.month): status
        for month, status in PayPeriod.objects.filter(
            park_id=project.park_id, status__in=LOCKED_STATUSES
        ).values_list("month", "status")
    }
    updates: dict[int, Decimal] = {}
    for plan in plans:
        number, job, ref = plan.number, plan.job, plan.ref
        records = records_by_job.get(job, [])
        if not records:
            report.error(
                number,
                "job_id",
                NO_CVAT_RECORDS
                % {"project": project.code, "id": f"{CVAT_PREFIX}{job}"},
                ref,
            )
            continue
        if plan.assignee is not None:
            others = {r.worker_id for r in records} - {plan.assignee[0]}
            if others:
                names = ", ".join(sorted({r.worker.employee_no for r in records}))
                report.error(
                    number,
                    "assignee",
                    CVAT_OTHER_WORKER
                    % {
                        "user": plan.who,
                        "assignee": Worker.objects.get(pk=plan.assignee[0]).employee_no,
                        "job": job,
                        "workers": names,
                    },
                    ref,
                )
                continue
        for record in records:
            status = locked.get((record.work_date.year, record.work_date.month))
            if status is not None:
                report.warn(
                    number,
                    "job_id",
                    CVAT_LOCKED
                    % {
                        "job": job,
                        "status": status,
                        "month": f"{record.work_date:%Y-%m}",
                    },
                    ref,
                )
                continue
            if record.accuracy == plan.accuracy:
                report.unchanged += 1
            else:
                updates[record.pk] = plan.accuracy
    if not report.ok:
        return
    report.updated = len(updates)
    if dry_run or not updates:
        return
    with transaction.atomic():
        changed = list(
            WorkRecord.objects.select_for_update().filter(pk__in=list(updates))
        )
        for record in changed:
            record.accuracy = updates[record.pk]
        WorkRecord.objects.bulk_update(changed, ["accuracy"], batch_size=1000)


def _cvat_entry(number, entry, report, identities) -> _Plan | None:
    if not isinstance(entry, dict):
        report.error(number, "", NOT_AN_OBJECT)
        return None
    if has_lone_surrogate(entry):
        report.error(number, "", NOT_TEXT_VALUE)
        return None
    job = entry.get("job_id")
    target = entry.get("target")
    if job is None and (
        target in ("task", "project")
        or entry.get("task_id") is not None
        or entry.get("project_id") is not None
    ):
        # A task or project report (the download names no job and no target).
        if target not in ("task", "project"):
            target = "project" if entry.get("task_id") is None else "task"
        ref = f"{target} report {shown(entry.get('id', '?'))}"
        report.warn(
            number,
            "job_id",
            CVAT_NOT_A_JOB_REPORT % {"target": REPORT_TARGETS[target]},
            ref,
        )
        return None
    ref = f"job {shown(job)}"
    if isinstance(job, bool) or not isinstance(job, int | str) or not str(job).strip():
        report.error(number, "job_id", NO_ID, ref)
        return None
    job = str(job).strip()
    if "\x00" in job:  # the database refuses it in text
        report.error(number, "job_id", NUL_CHARACTER, ref.replace("\x00", "\ufffd"))
        return None
    bad = False
    created = None
    stamp = entry.get("created_date")
    if stamp is not None:
        created = parse_timestamp(stamp)
        if created is None:
            report.error(
                number, "created_date", BAD_TIMESTAMP % {"value": shown(stamp)}, ref
            )
            bad = True
    report_id = entry.get("id")
    if isinstance(report_id, bool) or not isinstance(report_id, int):
        report_id = None
    if isinstance(entry.get("comparison_summary"), dict):
        accuracy, reviewed, ok = _download_accuracy(entry["comparison_summary"])
        if not ok:
            report.error(
                number,
                "comparison_summary.annotations.accuracy",
                BAD_CVAT_DATA_ACCURACY % {"value": shown(accuracy)},
                ref,
            )
            return None
    else:
        accuracy, reviewed, ok = _list_accuracy(entry.get("summary"))
        if not ok:
            report.error(
                number,
                "summary.accuracy",
                BAD_CVAT_ACCURACY % {"value": shown(accuracy)},
                ref,
            )
            return None
    if bad:
        return None
    assignee, who = find_annotator(entry.get("assignee"), identities)
    return _Plan(
        number,
        job,
        ref,
        accuracy if reviewed else None,
        assignee,
        who,
        created,
        report_id,
    )


def _count(value) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value


def _list_accuracy(summary) -> tuple:
    """(accuracy or the raw value, reviewed, valid) of a report list entry:
    ``summary.accuracy``, ``validation_frames`` (``frame_count`` before CVAT
    2.x renamed it) and ``total_count``."""
    raw = summary.get("accuracy") if isinstance(summary, dict) else None
    accuracy = _fraction_to_percent(raw)
    if accuracy is None:
        return raw, False, False
    frames = _count(summary.get("validation_frames"))
    if frames is None:
        frames = _count(summary.get("frame_count"))
    total = _count(summary.get("total_count"))
    return accuracy, frames != 0 and total != 0, True


def _download_accuracy(summary: dict) -> tuple:
    """The same of the report download: ``comparison_summary`` with its
    ``frames`` and ``annotations`` (``valid_count``, ``total_count`` and the
    computed ``accuracy``)."""
    annotations = summary.get("annotations")
    annotations = annotations if isinstance(annotations, dict) else {}
    raw = annotations.get("accuracy", summary.get("accuracy"))
    valid, total = (
        _count(annotations.get("valid_count")),
        _count(annotations.get("total_count")),
    )
    if raw is None and valid is not None and total is not None:
        raw = valid / (total or 1)  # as CVAT computes it
    accuracy = _fraction_to_percent(raw)
    if accuracy is None:
        return raw, False, False
    frames = _count(summary.get("validation_frames"))
    if frames is None:
        frames = _count(summary.get("frame_count"))
    if frames is None and isinstance(summary.get("frames"), list):
        frames = len(summary["frames"])
    return accuracy, frames != 0 and total != 0, True


def _fraction_to_percent(value) -> Decimal | None:
    """0.9755 → 97.55 (R2.1: a percentage with 2 decimal places, half up)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        fraction = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    if not fraction.is_finite() or not 0 <= fraction <= 1:
        return None
    return (fraction * 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def parse_timestamp(value) -> datetime | None:
    """CVAT's timestamps: ISO 8601 (``2024-03-21T20:52:03.552000Z``) in the
    API, ``2024-03-21 20:50:27.594000+00:00`` in an export's meta."""
    if not isinstance(value, str) or len(value) > 60:
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment


def _cvat_records(
    project: Project, jobs: list[str], source: str | None = None, namespace: str = ""
) -> dict[str, list[WorkRecord]]:
    """Records of ``project`` whose external id is ``cvat-job-<id>`` or
    ``cvat-job-<id>/<anything>`` (one record per job, or per job and day),
    after ``namespace`` (a connector's prefix)."""
    found: dict[str, list[WorkRecord]] = {}
    prefix = f"{namespace}{CVAT_PREFIX}"
    for start in range(0, len(jobs), 500):
        chunk = jobs[start : start + 500]
        query = Q()
        for job in chunk:
            query |= Q(external_id=f"{prefix}{job}") | Q(
                external_id__startswith=f"{prefix}{job}/"
            )
        records = WorkRecord.objects.filter(project=project)
        if source is not None:
            records = records.filter(source=source)
        for record in records.filter(query).select_related("worker").order_by("id"):
            job = record.external_id[len(prefix) :].split("/", 1)[0]
            found.setdefault(job, []).append(record)
    return found


# The work of jobs


@dataclass(frozen=True)
class CvatJobWork:
    """The work of one CVAT job, as plain values: who, when, how much."""

    job_id: int
    assignee: dict | None  # {"id": 7, "username": "worker2", "email": ...}
    updated: str  # the job's last change, as CVAT writes it
    units: int
    shapes: int = 0
    tracks: int = 0
    tags: int = 0
    task_id: int | None = None


@dataclass(frozen=True)
class CvatSkip:
    """A job (or report) left out, and why (a message a director reads)."""

    job_id: int | None
    reason: str


@dataclass
class CvatPull:
    jobs: list[CvatJobWork] = field(default_factory=list)
    skipped: list[CvatSkip] = field(default_factory=list)


def track_frames(track: dict, stop_frame: int | None) -> int:
    """Frames a track of CVAT's API is visible in: from each keyframe that is
    not ``outside`` to the next keyframe, the last one to the job's
    ``stop_frame`` (CVAT interpolates between keyframes)."""
    shapes = [
        s
        for s in track.get("shapes") or []
        if isinstance(s, dict) and _count(s.get("frame")) is not None
    ]
    if not shapes:
        # A skeleton track may carry its keyframes on its elements only.
        return max(
            (
                track_frames(e, stop_frame)
                for e in track.get("elements") or []
                if isinstance(e, dict)
            ),
            default=0,
        )
    shapes.sort(key=lambda s: s["frame"])
    frames = 0
    for shape, following in zip(shapes, [*shapes[1:], None], strict=True):
        if shape.get("outside"):
            continue
        if following is not None:
            end = following["frame"]
        elif stop_frame is not None:
            end = max(stop_frame + 1, shape["frame"] + 1)
        else:
            end = shape["frame"] + 1
        frames += end - shape["frame"]
    return frames


def job_units(
    annotations: dict, *, stop_frame: int | None, tracks: str = TRACKS_AS_FRAMES
) -> tuple[int, int, int, int]:
    """(units, shapes, track units, tags) of a job's annotations as CVAT's
    ``/api/jobs/{id}/annotations`` returns them: each shape one unit (a
    skeleton one, not one per point), each tag one, each track one per frame
    it is visible in or one in all, by the project's rule."""
    if tracks not in TRACK_RULES:
        raise ValueError(BAD_TRACK_RULE % {"rule": tracks})
    shapes = sum(1 for s in annotations.get("shapes") or [] if isinstance(s, dict))
    tags = sum(1 for t in annotations.get("tags") or [] if isinstance(t, dict))
    track_list = [t for t in annotations.get("tracks") or [] if isinstance(t, dict)]
    if tracks == TRACKS_AS_OBJECTS:
        track_units = sum(1 for t in track_list if track_frames(t, stop_frame) > 0)
    else:
        track_units = sum(track_frames(t, stop_frame) for t in track_list)
    return shapes + track_units + tags, shapes, track_units, tags


def job_skip_reason(job: dict) -> str | None:
    """Why a job of CVAT's ``/api/jobs`` list is not paid, or ``None``."""
    job_id = job.get("id")
    if job.get("type") == "ground_truth":
        return str(CVAT_GROUND_TRUTH % {"job": job_id})
    if not job.get("assignee"):
        return str(CVAT_NO_ASSIGNEE % {"job": job_id})
    if job.get("stage") != "acceptance" or job.get("state") != "completed":
        return str(
            CVAT_NOT_ACCEPTED
            % {"job": job_id, "stage": job.get("stage"), "state": job.get("state")}
        )
    return None


def cvat_job_rows(
    jobs: Iterable[CvatJobWork],
    lookups: Lookups,
    report: ImportReport,
    *,
    skip_unmapped: bool = False,
    identities: dict[str, tuple[int, int]] | None = None,
) -> Iterator[tuple]:
    """Staged records (the readers' shape, for :class:`Writer`) of jobs'
    work: one per job, external id ``cvat-job-<id>``, worker by the job's
    assignee (worker identities, tool ``cvat``), work date the park's date of
    the job's last change. An unmapped assignee is an error, or with
    ``skip_unmapped`` a warning and the job is left out."""
    if identities is None:
        identities = tool_identities(IdentityTool.CVAT, lookups.park)
    tz = ZoneInfo(lookups.park.time_zone)
    task_type_code = lookups.default_task_type.code if lookups.default_task_type else ""
    for number, job in enumerate(jobs, start=1):
        report.records += 1
        ref = f"job {shown(job.job_id)}"
        if job.units < 1:
            report.warn(number, "units", CVAT_NO_UNITS % {"job": job.job_id}, ref)
            continue
        worker, who = find_annotator(job.assignee, identities)
        bad = False
        if who is None:
            report.warn(number, "assignee", CVAT_NO_ASSIGNEE % {"job": job.job_id}, ref)
            continue
        if worker is None:
            message = UNKNOWN_ANNOTATOR % {"tool": "CVAT", "user": who}
            if skip_unmapped:
                report.warn(number, "assignee", message, ref)
                continue
            report.error(number, "assignee", message, ref)
            bad = True
        work_date = _local_date(job.updated, tz)
        if work_date is None:
            message = (
                BAD_TIMESTAMP % {"value": shown(job.updated)}
                if job.updated
                else CVAT_NO_DATE % {"job": job.job_id}
            )
            report.error(number, "updated", message, ref)
            bad = True
        staged = check_record(
            lookups,
            report,
            number,
            ref,
            bad,
            worker,
            "",
            task_type_code,
            work_date,
            job.units,
            None,
            f"{CVAT_PREFIX}{job.job_id}",
        )
        if staged is not None:
            yield staged


def _local_date(stamp, tz) -> date | None:
    moment = parse_timestamp(stamp)
    if moment is None:
        return None
    try:
        return moment.astimezone(tz).date()
    except (OverflowError, ValueError):
        return None


def import_cvat_jobs(
    jobs: Iterable[CvatJobWork],
    project: Project,
    task_type: TaskType | None,
    report: ImportReport,
    *,
    dry_run: bool,
    skip_unmapped: bool = False,
    source: str = SOURCE,
    identities: dict[str, tuple[int, int]] | None = None,
) -> None:
    """Write jobs' work as records of ``project``, all or nothing, idempotent
    on (park, ``cvat``, ``cvat-job-<id>``): a job imported before is skipped
    (``unchanged``), one whose units or date changed since is kept and
    warned about (a correction of paid work is an adjustment). ``source``
    and ``identities``: a connector's own (see :func:`import_cvat_reports`)."""
    lookups = Lookups(project, task_type)
    with transaction.atomic():
        writer = Writer(park_id=project.park_id, source=source, dry_run=dry_run)
        rows = [
            (seq, *row)
            for seq, row in enumerate(
                cvat_job_rows(
                    jobs,
                    lookups,
                    report,
                    skip_unmapped=skip_unmapped,
                    identities=identities,
                ),
                start=1,
            )
        ]
        for start in range(0, len(rows), 5000):
            writer.stage(rows[start : start + 5000])
            writer.write()
        finish_import(writer, report, dry_run=dry_run)


# The "CVAT for images 1.1" XML export of a job


def read_cvat_xml(file, *, tracks: str = TRACKS_AS_FRAMES) -> CvatJobWork:
    """The work of the job a "CVAT for images 1.1" export holds
    (``<annotations><meta><job>``, then one ``<image>`` per frame with its
    shapes and tags). Tracks appear there as a shape on each frame they are
    visible in, so they count as frames whatever the rule; a "CVAT for
    video 1.1" export (``<track>`` elements) is counted by the rule.

    Parsed with defusedxml: no document type, no entities, no external
    references; at most ``MAX_XML_ELEMENTS`` elements."""
    from xml.etree.ElementTree import ParseError

    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import iterparse

    if tracks not in TRACK_RULES:
        raise ImportFileError(BAD_TRACK_RULE % {"rule": tracks})
    path: list[str] = []
    meta: dict[str, str] = {}
    shapes = tag_count = track_units = elements = 0
    track_visible = 0
    in_track = False
    try:
        for event, element in iterparse(
            file, events=("start", "end"), forbid_dtd=True, forbid_entities=True
        ):
            if event == "start":
                elements += 1
                if elements > MAX_XML_ELEMENTS:
                    raise ImportFileError(XML_TOO_MANY % {"max": MAX_XML_ELEMENTS})
                if not path and element.tag != "annotations":
                    raise ImportFileError(
                        XML_NOT_CVAT
                        % {"reason": f"the root element is <{shown(element.tag)}>"}
                    )
                path.append(element.tag)
                if element.tag == "track" and len(path) == 2:
                    in_track, track_visible = True, 0
                continue
            depth = len(path)
            tag = path.pop()
            if depth >= 3 and path[:2] == ["annotations", "meta"]:
                if path[2:] == ["job"] or path[2:] == ["job", "assignee"]:
                    key = "/".join([*path[3:], tag])
                    meta[key] = (element.text or "").strip()[:200]
                elif depth == 3 and tag == "task":
                    raise ImportFileError(XML_TASK_EXPORT)
            elif depth == 3 and path[1] == "image":
                if tag in XML_SHAPES:
                    shapes += 1
                elif tag == "tag":
                    tag_count += 1
            elif depth == 3 and path[1] == "track" and tag in XML_SHAPES:
                if element.get("outside", "0") != "1":
                    track_visible += 1
            elif depth == 2 and tag == "track" and in_track:
                in_track = False
                if tracks == TRACKS_AS_OBJECTS:
                    track_units += 1 if track_visible else 0
                else:
                    track_units += track_visible
            if depth <= 2:
                element.clear()  # an image's shapes are counted: drop them
    except ParseError as exc:
        line, column = getattr(exc, "position", ("?", "?"))
        raise ImportFileError(
            XML_MALFORMED
            % {"line": line, "column": column, "error": str(exc).split(":")[0]}
        ) from exc
    except DefusedXmlException as exc:
        raise ImportFileError(XML_FORBIDDEN) from exc
    job_id = meta.get("id", "")
    if not (job_id.isascii() and job_id.isdigit() and 0 < len(job_id) <= 18):
        raise ImportFileError(XML_NOT_CVAT % {"reason": "meta/job/id is missing"})
    assignee = {
        key: meta[f"assignee/{key}"]
        for key in ("username", "email")
        if meta.get(f"assignee/{key}")
    }
    return CvatJobWork(
        job_id=int(job_id),
        assignee=assignee or None,
        updated=meta.get("updated", ""),
        units=shapes + track_units + tag_count,
        shapes=shapes,
        tracks=track_units,
        tags=tag_count,
    )


def import_cvat_work(
    file,
    project: Project,
    task_type: TaskType | None,
    report: ImportReport,
    *,
    dry_run: bool,
    tracks: str = TRACKS_AS_FRAMES,
) -> None:
    """A job's "CVAT for images 1.1" XML export as one work record (the
    ``cvat-xml`` format; bounded by the upload limit like ``cvat-quality``).
    Without ``task_type``, the one task type of the project's rate cards."""
    from payroll.imports.lookups import only_task_type

    job = read_cvat_xml(file, tracks=tracks)
    if task_type is None:
        task_type = only_task_type(project)
    import_cvat_jobs([job], project, task_type, report, dry_run=dry_run)
