"""What a record names, looked up once per import: the park's projects,
workers, task types and tool identities; and the rules of one record."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError

from payroll.imports.report import (
    AMBIGUOUS_PROJECT,
    MAX_LISTED,
    NUL_CHARACTER,
    REQUIRED,
    TASK_TYPE_NEEDED,
    TOO_LONG,
    UNKNOWN_PARK,
    UNKNOWN_PROJECT,
    UNKNOWN_PROJECT_ANY,
    UNKNOWN_TASK_TYPE,
    UNKNOWN_WORKER,
    ImportFileError,
    ImportReport,
    shown,
)
from payroll.imports.text import clean_cell
from payroll.models import (
    Project,
    RateCard,
    TaskType,
    WorkerIdentity,
    normalise_external_user,
)
from payroll.services import work_record_errors
from workforce.models import Worker

_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_ACCURACY = re.compile(r"^\d{1,3}(\.\d{1,2})?$")


def resolve_project(
    *, code: str, park_code: str | None = None, projects=None
) -> Project:
    """The project named ``code`` among ``projects`` (by default all): raises
    ``ValidationError`` on ``project`` or ``park`` when unknown or ambiguous.
    A park with none of ``projects`` is unknown, whether or not it exists."""
    scoped = projects if projects is not None else Project.objects.all()
    qs = scoped.select_related("park")
    if park_code:
        qs = qs.filter(park__code=park_code)
    found = list(qs.filter(code=code)[:10])
    if not found:
        if park_code and not scoped.filter(park__code=park_code).exists():
            raise ValidationError({"park": UNKNOWN_PARK % {"park": shown(park_code)}})
        raise ValidationError({"project": UNKNOWN_PROJECT_ANY % {"project": code}})
    if len(found) > 1:
        parks = ", ".join(sorted(p.park.code for p in found))
        raise ValidationError(
            {"park": AMBIGUOUS_PROJECT % {"project": code, "parks": parks}}
        )
    return found[0]


def only_task_type(project: Project) -> TaskType | None:
    ids = list(
        RateCard.objects.filter(project=project)
        .order_by()
        .values_list("task_type_id", flat=True)
        .distinct()
    )
    if len(ids) != 1:
        raise ImportFileError(
            TASK_TYPE_NEEDED % {"project": project.code, "count": len(ids)}
        )
    return TaskType.objects.get(pk=ids[0])


class Lookups:
    """The park's reference data, loaded once before the file is read: while
    it streams, no query waits for an answer (the database is writing)."""

    def __init__(self, project: Project, default_task_type: TaskType | None):
        self.project = project
        self.park = project.park
        self.default = (project.pk, project.park_id)
        self.projects: dict[str, tuple[int, int]] = {}
        for pk, park_id, code, name in Project.objects.filter(
            park=self.park
        ).values_list("pk", "park_id", "code", "name"):
            for key in (code, code.lower(), clean_cell(name)):
                self.projects.setdefault(key, (pk, park_id))
        self.task_types: dict[str, int] = {}
        for pk, code, name in TaskType.objects.values_list("pk", "code", "name"):
            for key in (code, code.lower(), clean_cell(name)):
                self.task_types.setdefault(key, pk)
        self.default_task_type = default_task_type
        self.workers: dict[str, tuple[int, int]] = {
            no: (pk, park_id)
            for no, pk, park_id in Worker.objects.filter(park=self.park).values_list(
                "employee_no", "pk", "park_id"
            )
        }
        # Employee numbers not of this park, with the rows naming them:
        # reported once the file is read.
        self.elsewhere: dict[str, list[int]] = {}
        self.elsewhere_count: dict[str, int] = {}
        self.dates: dict[str, date | None] = {}
        self.accuracies: dict[str, Decimal | None] = {}

    def defer_worker(self, employee_no: str, row: int) -> None:
        if len(self.elsewhere) >= MAX_LISTED and employee_no not in self.elsewhere:
            employee_no = ""  # past the list: counted under the last name
        rows = self.elsewhere.setdefault(employee_no, [])
        self.elsewhere_count[employee_no] = self.elsewhere_count.get(employee_no, 0) + 1
        if len(rows) < MAX_LISTED:
            rows.append(row)

    def report_elsewhere(self, report: ImportReport) -> None:
        """Report the rows naming no worker of the park. A number of another
        park reads as unknown, like a number of no park: an import tells
        nothing of other parks."""
        for no, rows in self.elsewhere.items():
            message = UNKNOWN_WORKER % {"value": shown(no) if no else "…"}
            for row in rows:
                report.skip(row, "employee_no", message)
            if report.skip_unmatched:
                report.skipped_count += self.elsewhere_count[no] - len(rows)
            else:
                report.error_count += self.elsewhere_count[no] - len(rows)

    def project_of(self, value: str):
        if not value:
            return self.default
        return self.projects.get(value) or self.projects.get(value.lower())

    def task_type_of(self, value: str):
        if not value:
            return self.default_task_type.pk if self.default_task_type else None
        return self.task_types.get(value) or self.task_types.get(value.lower())

    def date_of(self, value: str):
        try:
            return self.dates[value]
        except KeyError:
            parsed = _parse_date(value)
            if len(self.dates) < 100_000 and len(value) <= 40:
                self.dates[value] = parsed
            return parsed

    def accuracy_of(self, value: str):
        try:
            return self.accuracies[value]
        except KeyError:
            parsed = _parse_accuracy(value)
            if len(self.accuracies) < 100_000 and len(value) <= 40:
                self.accuracies[value] = parsed
            return parsed


def _parse_date(value: str) -> date | None:
    match = _DATE.match(value)
    if not match:
        return None
    try:
        return date(*(int(part) for part in match.groups()))
    except ValueError:
        return None


def _parse_accuracy(value: str) -> Decimal | None:
    """A number with at most 2 decimal places (R2.1); ``%`` allowed. Its range
    is the shared rule's (``work_record_errors``)."""
    value = value.removesuffix("%").strip()
    if not _ACCURACY.match(value):
        return None
    return Decimal(value)


def check_record(
    lookups: Lookups,
    report: ImportReport,
    row: int,
    ref: str,
    bad: bool,
    worker: tuple[int, int] | None,
    project_value: str,
    task_type_value: str,
    work_date: date | None,
    units: int | None,
    accuracy: Decimal | None,
    external_id: str,
) -> tuple | None:
    """Apply the record rules, report each problem, and return the staged
    record when it is good. ``bad``: a problem of the row was reported (or
    will be: its worker) already."""
    project = lookups.project_of(project_value)
    if project is None:
        report.error(
            row,
            "project",
            UNKNOWN_PROJECT
            % {"project": shown(project_value), "park": lookups.park.code},
            ref,
        )
        bad = True
    task_type_id = lookups.task_type_of(task_type_value)
    if task_type_id is None:
        message = (
            UNKNOWN_TASK_TYPE % {"value": shown(task_type_value)}
            if task_type_value
            else REQUIRED
        )
        report.error(row, "task_type", message, ref)
        bad = True
    if not external_id:
        report.error(row, "external_id", REQUIRED, ref)
        bad = True
    elif len(external_id) > 100:
        report.error(row, "external_id", TOO_LONG % {"max": 100}, ref)
        bad = True
    elif "\x00" in external_id:  # the database refuses it in text
        report.error(row, "external_id", NUL_CHARACTER, ref)
        bad = True
    # The rules of work_record_create; the park rule once both are known.
    both = worker is not None and project is not None
    problems = work_record_errors(
        worker_park_id=worker[1] if both else 0,
        project_park_id=project[1] if both else 0,
        units=units,
        accuracy=accuracy,
        work_date=work_date,
        park=lookups.park,
    )
    if problems:
        for name, message in problems.items():
            report.error(row, name, message, ref)
        return None
    if bad or work_date is None or units is None:
        return None
    return (
        row,
        ref.replace("\x00", "\ufffd"),  # a record's name in messages only
        worker[0],
        project[0],
        task_type_id,
        work_date,
        units,
        accuracy,
        external_id,
    )


def tool_identities(
    tool: str, park, connector_id: int | None = None
) -> dict[str, tuple[int, int]]:
    """The park's mappings of ``tool``'s users (each park maps its own).

    Without a connector: the park's own namespace (identities of no
    connector). With one: that connector's identities, and the park's e-mail
    identities (an e-mail names one person on every server; a user id only
    on its own server, as ids restart at 1 on each)."""
    found = {
        user: (worker_id, park_id)
        for user, worker_id, park_id in WorkerIdentity.objects.filter(
            park=park, tool=tool, connector_id=connector_id
        ).values_list("external_user", "worker_id", "worker__park_id")
    }
    if connector_id is not None:
        for user, worker_id, park_id in WorkerIdentity.objects.filter(
            park=park,
            tool=tool,
            connector__isnull=True,
            external_user__contains="@",
        ).values_list("external_user", "worker_id", "worker__park_id"):
            found.setdefault(user, (worker_id, park_id))
    return found


def find_annotator(value, identities) -> tuple[tuple[int, int] | None, str | None]:
    """The worker of a tool user given as an id, a name, or an object with
    ``email``/``id``/``username``; and how to name that user in a message."""
    if isinstance(value, bool) or value is None:
        return None, None
    if isinstance(value, int | str):
        key = normalise_external_user(value)
        return identities.get(key), key
    if isinstance(value, dict):
        keys = [
            normalise_external_user(value[k])
            for k in ("email", "id", "username")
            if isinstance(value.get(k), int | str)
            and not isinstance(value.get(k), bool)
            and str(value[k]).strip()
        ]
        if not keys:
            return None, None
        for key in keys:
            if key in identities:
                return identities[key], key
        return None, " / ".join(keys)
    return None, None
