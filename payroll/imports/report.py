"""What an import says: its report, its problems and its messages."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from django.utils.translation import gettext_lazy as _

# The report lists this many problems of each kind and counts the rest.
MAX_LISTED = 1000

# Messages that tests check (STYLE: module-level constants).
UNKNOWN_FORMAT = _("Unknown format %(format)s: use one of %(formats)s.")
UNKNOWN_PROJECT = _("Unknown project %(project)s in park %(park)s.")
UNKNOWN_PROJECT_ANY = _("Unknown project %(project)s.")
AMBIGUOUS_PROJECT = _(
    "Project code %(project)s exists in several parks (%(parks)s): name the park."
)
UNKNOWN_PARK = _("Unknown park %(park)s.")
UNKNOWN_WORKER = _("Unknown employee number %(value)s.")
UNKNOWN_TASK_TYPE = _("Unknown task type %(value)s.")
UNKNOWN_ANNOTATOR = _(
    "Unknown annotator: %(tool)s user %(user)s is mapped to no worker; add a "
    "worker identity for them."
)
TASK_TYPE_NEEDED = _(
    "Label Studio exports carry no task type and project %(project)s has "
    "%(count)s task types with rate cards: name the task type."
)
FILE_TOO_LARGE = _(
    "The file is %(size)s; the limit is %(limit)s. Split it into smaller "
    "files (each file is imported all-or-nothing)."
)
FILE_EMPTY = _("The file is empty.")
NOT_TEXT = _(
    "The file is neither UTF-8 nor GB18030 text (at byte %(position)s): save it "
    "as CSV UTF-8."
)
MISSING_COLUMNS = _(
    "Missing column(s) %(columns)s. The header names %(header)s; see "
    "docs/imports.md for the columns and their Chinese names."
)
DUPLICATE_COLUMN = _("Column %(column)s appears twice in the header.")
TOO_MANY_CELLS = _("The row has %(cells)s cells; the header has %(columns)s.")
REQUIRED = _("This cell is required.")
BAD_DATE = _("%(value)s is not a date: write YYYY-MM-DD.")
BAD_UNITS = _("%(value)s is not a whole number of units.")
BAD_ACCURACY = _(
    "%(value)s is not an accuracy: write a percentage from 0 to 100 with at "
    "most 2 decimal places, such as 97.5."
)
TOO_LONG = _("At most %(max)s characters.")
NUL_CHARACTER = _("Contains a NUL character (code 0), which text cannot hold.")
DUPLICATE_IN_FILE = _("External id %(id)s appears already in record %(first)s.")
CLASH = _(
    "External id %(id)s was imported before for %(worker)s, project "
    "%(project)s: ids must be unique per source."
)
CHANGED_SINCE = _(
    "External id %(id)s was imported before with other data (%(what)s); the "
    "earlier record is kept. Corrections are adjustments."
)
MALFORMED_JSON = _("Malformed JSON at line %(line)s, column %(column)s: %(error)s.")
NOT_A_LIST = _(
    "A Label Studio export is a JSON list of tasks; this file starts with %(start)s."
)
NOT_AN_OBJECT = _("Each entry must be a JSON object.")
NO_ANNOTATIONS = _(
    "The task has no annotations[] list and is no JSON-MIN record (annotator, "
    "annotation_id): export from Label Studio as JSON or JSON-MIN (not CSV)."
)
DELETED_USER = _(
    "The annotation has no annotator (completed_by is empty: the Label Studio "
    "user was deleted)."
)
ONLY_PREDICTIONS = _(
    "Only pre-annotations accepted unchanged, which this project does not pay."
)
BAD_ANNOTATOR = _("completed_by must be a user id or an object with id or email.")
BAD_RESULT = _("result must be a list of regions.")
BAD_TIMESTAMP = _("%(value)s is not a date and time (ISO 8601).")
NO_TIMESTAMP = _("The annotation has neither created_at nor updated_at.")
NO_ID = _("The entry has no id.")
NO_REPORTS = _("The file holds no quality report.")
BAD_CVAT_ACCURACY = _(
    "summary.accuracy must be a fraction from 0 to 1, such as 0.975; got %(value)s."
)
NO_CVAT_RECORDS = _(
    "No work record of project %(project)s has external id %(id)s (or "
    "%(id)s/…): import the job's work first."
)
CVAT_OTHER_WORKER = _(
    "Assignee %(user)s is %(assignee)s, but the records of job %(job)s belong "
    "to %(workers)s."
)
CVAT_LOCKED = _(
    "The records of job %(job)s are in the %(status)s period %(month)s and "
    "were left unchanged."
)
ENCODING_USED = _("Read as GB18030 (Excel's Chinese encoding), not UTF-8.")
BAD_ID = _("The id must be a whole number of 1 or more, as Label Studio writes it.")
JSON_TOO_DEEP = _(
    "The JSON is nested more than %(max)s levels deep: this is not an export "
    "of the tool."
)
NOT_TEXT_VALUE = _(
    "Holds a character that is not text (a lone UTF-16 surrogate, such as \\ud800)."
)
# Values quoted in messages are cut to this many characters.
SHOWN_CHARS = 40


def shown(value) -> str:
    """``value`` as a message quotes it: at most ``SHOWN_CHARS`` characters."""
    text = str(value)
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 1] + "…"


class ImportFileError(Exception):
    """The file as a whole cannot be read; the report says why."""


@dataclass
class Problem:
    row: int | None
    field: str
    message: str
    ref: str = ""


@dataclass
class ImportReport:
    """What an import did or, with errors or ``dry_run``, would have done."""

    format: str
    park: str = ""
    project: str = ""
    dry_run: bool = False
    records: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    cancelled: int = 0
    # Label Studio: ground-truth annotations (not paid), rejected reviews (paid
    # at the rejected tier), regions or tasks pre-annotated and accepted
    # unchanged (counted by the project's policy, shown apart).
    ground_truth: int = 0
    rejected: int = 0
    predicted_units: int = 0
    # External ids of annotations read but not paid (cancelled, ground truth):
    # a pull voids a record it had paid for one of them (not in as_dict()).
    unpaid_ids: list[str] = field(default_factory=list, repr=False)
    # With "skip what cannot be matched": records left out, and why.
    skip_unmatched: bool = False
    skipped_count: int = 0
    skipped: list[Problem] = field(default_factory=list)
    error_count: int = 0
    warning_count: int = 0
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    def error(self, row, field_name, message, ref="") -> None:
        self.error_count += 1
        if len(self.errors) < MAX_LISTED:
            self.errors.append(Problem(row, field_name, str(message), str(ref)))

    def skip(self, row, field_name, message, ref="") -> None:
        """A record left out: an error unless ``skip_unmatched``."""
        if not self.skip_unmatched:
            self.error(row, field_name, message, ref)
            return
        self.leave_out(row, field_name, message, ref)

    def leave_out(self, row, field_name, message, ref="") -> None:
        """A record not paid by the project's rules: listed, never an error."""
        self.skipped_count += 1
        if len(self.skipped) < MAX_LISTED:
            self.skipped.append(Problem(row, field_name, str(message), str(ref)))

    def warn(self, row, field_name, message, ref="") -> None:
        self.warning_count += 1
        if len(self.warnings) < MAX_LISTED:
            self.warnings.append(Problem(row, field_name, str(message), str(ref)))

    def as_dict(self) -> dict:
        data = asdict(self)
        data.pop("unpaid_ids")
        data["ok"] = self.ok
        return data


def human_size(size: int) -> str:
    if size >= 2**20:
        return f"{size / 2**20:.1f} MB".replace(".0 MB", " MB")
    return f"{max(1, round(size / 1024))} KB"


def too_large_message(size: int, limit: int) -> str:
    return str(FILE_TOO_LARGE % {"size": human_size(size), "limit": human_size(limit)})
