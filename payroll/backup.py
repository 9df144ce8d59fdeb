"""Backups of a pay period: export it as JSON, and verify an export (issue 7).

``period_export`` writes a calculated period's payslips and lines together with
every input their calculation used: the records (on time and late, R13.3), the
work sessions touching the period, adjustments, the park's projects with their
quality tiers, task types, rate cards, the pay policy, each worker's skill
periods and contract figures, and the year-to-date and carried-in figures read
from earlier payslips (R11, R12). Decimals are strings, times are ISO 8601 in
UTC. The file carries the SHA-256 of its content in canonical form (keys
sorted, no whitespace, UTF-8), so re-indenting the file does not change it.

``period_export_verify`` reads nothing but the file: it checks the checksum and
recomputes every payslip with the pure engine (pricing each record by the card
and skill level of its date, R3.2; its tier, R4; the minutes inside the period,
R1.1), then compares every figure and line to the fen. R8 warnings have no pay
effect and are not recomputed (they depend on the days before the period).

An export is the database as it is now: a period calculated and then changed
(an edited session, a new skill level) no longer verifies, which is the point.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from payroll import engine
from payroll.calculation import (
    RESULT_FIELDS,
    earlier_pay,
    late_window,
    local_midnight,
    month_bounds,
    months_employed,
    policy_for,
)
from payroll.models import (
    ACTIVE_RUN_STATUSES,
    Adjustment,
    PayPeriod,
    PayrollRun,
    Payslip,
    PayslipLine,
    Project,
    QualityTier,
    RateCard,
    RunStatus,
    TaskType,
    WorkCorrection,
    WorkRecord,
)
from workforce.deductions import special_deductions_to_date
from workforce.models import SkillPeriod, Worker, WorkSession

FORMAT = "parkpay-period-export"
VERSION = 1

NOT_CALCULATED = "The period {period} has not been calculated; nothing to export."
RUN_ACTIVE = "A calculation of {period} is running; export it when it has finished."
NOT_AN_EXPORT = "Not a ParkPay period export: {reason}."
CHECKSUM_MISMATCH = (
    "Checksum mismatch: the file says {stored}, its content hashes to {actual}; "
    "the file was changed after it was exported."
)
NO_INPUTS = "no inputs for worker {employee_no} in the file"
CANNOT_RECOMPUTE = "cannot be recomputed from the file: {reason}"

LINE_FIELDS = (
    "kind",
    "project",
    "task_type",
    "unit",
    "quantity",
    "rate",
    "multiplier",
    "tier",
    "ref_period",
    "reason",
    "amount",
)
DECIMAL_LINE_FIELDS = ("quantity", "rate", "multiplier", "amount")


# --- canonical form -------------------------------------------------------------


def _special_to_date(data: dict, months: int) -> Decimal:
    """R11.2 from an export: the dated year to date, or in a file written
    before deductions were dated, the one monthly amount × months."""
    if "special_deductions_to_date" in data:
        return Decimal(data["special_deductions_to_date"])
    return Decimal(data.get("special_deduction_monthly", "0")) * months


def _dec(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _day(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _moment(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat()


def canonical_bytes(content: dict) -> bytes:
    return json.dumps(
        content, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode("utf-8")


def content_checksum(content: dict) -> str:
    """SHA-256 of the content in canonical form."""
    return hashlib.sha256(canonical_bytes(content)).hexdigest()


def export_document(content: dict) -> dict:
    return {
        "checksum": {"algorithm": "sha256", "value": content_checksum(content)},
        "content": content,
    }


def export_dumps(document: dict) -> str:
    """The file's text: readable (indented); the checksum does not depend on it."""
    return json.dumps(document, sort_keys=True, indent=1, ensure_ascii=False) + "\n"


# --- export -------------------------------------------------------------------------


def period_export(*, period: PayPeriod) -> dict:
    """The export document (checksum and content) of a calculated period.

    Read in one transaction; on PostgreSQL a repeatable-read one, so that a
    calculation or an import committing meanwhile cannot tear the export.
    """
    # SET TRANSACTION must be a transaction's first statement: only when this
    # is the outermost block (not inside a caller's transaction or a test's).
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if connection.vendor == "postgresql" and outermost:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"
                )
        period = PayPeriod.objects.select_related("park").get(pk=period.pk)
        if PayrollRun.objects.filter(
            period=period, status__in=ACTIVE_RUN_STATUSES
        ).exists():
            raise ValidationError(RUN_ACTIVE.format(period=period))
        if period.snapshot_at is None:
            raise ValidationError(NOT_CALCULATED.format(period=period))
        return export_document(_content(period))


def _content(period: PayPeriod) -> dict:
    park = period.park
    start, end = month_bounds(period.month)
    last_day = end - timedelta(days=1)
    snapshot = period.snapshot_at

    payslips = list(
        Payslip.objects.filter(period=period)
        .select_related("worker")
        .order_by("number")
    )
    worker_ids = {p.worker_id for p in payslips}
    lines = defaultdict(list)
    for line in PayslipLine.objects.filter(payslip__period=period).order_by(
        "payslip_id", "position"
    ):
        lines[line.payslip_id].append(
            {
                "position": line.position,
                **{
                    name: (
                        _dec(getattr(line, name))
                        if name in DECIMAL_LINE_FIELDS
                        else getattr(line, name)
                    )
                    for name in LINE_FIELDS
                },
            }
        )

    workers = {w.id: w for w in Worker.objects.filter(id__in=worker_ids).order_by("id")}
    # R11.2: the year to date of the dated amounts, as the calculation sums it.
    special = special_deductions_to_date(worker_ids=list(workers), month=period.month)
    inputs = {
        wid: {
            "contract": w.contract,
            "hire_date": _day(w.hire_date),
            "leave_date": _day(w.leave_date),
            "insured": w.insured,
            "si_base": _dec(w.si_base),
            "special_deductions_to_date": _dec(special.get(wid, Decimal("0.00"))),
            "full_year_basic_deduction": w.full_year_basic_deduction,
            "skill_periods": [],
            "records": [],
            "sessions": [],
            "adjustments": [],
            "corrections": [],
            "year_to_date": {"taxable": "0", "social_insurance": "0", "tax": "0"},
            "carried_in": {"amount": "0", "from": None},
        }
        for wid, w in workers.items()
    }

    for wid, level, valid_from, valid_to in (
        SkillPeriod.objects.filter(worker__park=park)
        .order_by("worker_id", "valid_from")
        .values_list("worker_id", "level", "valid_from", "valid_to")
    ):
        if wid in inputs:
            inputs[wid]["skill_periods"].append(
                {
                    "level": level,
                    "valid_from": _day(valid_from),
                    "valid_to": _day(valid_to),
                }
            )

    # The records of the calculation (calculation._collect_records): on time up
    # to the snapshot, and late work since the last locked period's snapshot.
    on_time = Q(work_date__gte=start, work_date__lt=end, created_at__lte=snapshot)
    chosen = on_time
    late = late_window(period)
    if late is not None:
        after, _month = late
        chosen |= Q(work_date__lt=start, created_at__gt=after, created_at__lte=snapshot)
    for row in (
        WorkRecord.objects.filter(chosen, worker__park=park)
        .order_by("worker_id", "work_date", "id")
        .values_list(
            "worker_id",
            "project__code",
            "task_type__code",
            "work_date",
            "units",
            "accuracy",
            "source",
            "external_id",
        )
        .iterator()
    ):
        wid, project, task_type, day, units, accuracy, source, external_id = row
        if wid in inputs:
            inputs[wid]["records"].append(
                {
                    "project": project,
                    "task_type": task_type,
                    "work_date": _day(day),
                    "units": units,
                    "accuracy": _dec(accuracy),
                    "late": day < start,
                    "source": source,
                    "external_id": external_id,
                }
            )

    first = local_midnight(start, park.time_zone)
    after_last = local_midnight(end, park.time_zone)
    for wid, s_start, s_end, minutes in (
        WorkSession.objects.filter(
            worker__park=park, end__isnull=False, start__lt=after_last, end__gt=first
        )
        .order_by("worker_id", "start")
        .values_list("worker_id", "start", "end", "minutes")
    ):
        if wid in inputs:
            inputs[wid]["sessions"].append(
                {"start": _moment(s_start), "end": _moment(s_end), "minutes": minutes}
            )

    for wid, kind, amount, reason in (
        Adjustment.objects.filter(period=period)
        .order_by("created_at", "id")
        .values_list("worker_id", "kind", "amount", "reason")
    ):
        if wid in inputs:
            inputs[wid]["adjustments"].append(
                {"kind": kind, "amount": _dec(amount), "reason": reason}
            )

    # Corrections booked in the period (R13.5), as _collect_corrections reads them.
    for row in (
        WorkCorrection.objects.filter(
            record__worker__park=park, booked_month=start, created_at__lte=snapshot
        )
        .order_by("created_at", "id")
        .values_list(
            "record__worker_id",
            "record__project__code",
            "record__task_type__code",
            "record__work_date",
            "kind",
            "old_units",
            "new_units",
            "old_accuracy",
            "new_accuracy",
            "reason",
        )
    ):
        wid, project, task_type, day, kind, old_u, new_u, old_a, new_a, reason = row
        if wid in inputs:
            inputs[wid]["corrections"].append(
                {
                    "project": project,
                    "task_type": task_type,
                    "work_date": _day(day),
                    "kind": kind,
                    "old_units": old_u,
                    "new_units": new_u,
                    "old_accuracy": _dec(old_a),
                    "new_accuracy": _dec(new_a),
                    "reason": reason,
                }
            )

    # Year to date (R11) and the latest carry (R12), as compute_chunk reads them.
    ytd, carry = earlier_pay(worker_ids=list(worker_ids), park=park, start=start)
    for wid, (month, carried) in carry.items():
        inputs[wid]["carried_in"] = {
            "amount": _dec(carried),
            "from": f"{month:%Y-%m}" if carried else None,
        }
    for wid, (taxable, si, tax) in ytd.items():
        inputs[wid]["year_to_date"] = {
            "taxable": _dec(taxable),
            "social_insurance": _dec(si),
            "tax": _dec(tax),
        }

    projects = {}
    for project in Project.objects.filter(park=park).order_by("code"):
        projects[project.code] = {"name": project.name, "tiers": []}
    for code, min_accuracy, multiplier, label in (
        QualityTier.objects.filter(project__park=park)
        .order_by("project__code", "-min_accuracy")
        .values_list("project__code", "min_accuracy", "multiplier", "label")
    ):
        projects[code]["tiers"].append(
            {
                "min_accuracy": _dec(min_accuracy),
                "multiplier": _dec(multiplier),
                "label": label,
            }
        )
    task_types = {
        t.code: {"name": t.name, "unit": t.unit}
        for t in TaskType.objects.order_by("code")
    }
    rate_cards = [
        {
            "project": project,
            "task_type": task_type,
            "skill_level": level,
            "rate": _dec(rate),
            "effective_from": _day(effective_from),
            "effective_to": _day(effective_to),
        }
        for project, task_type, level, rate, effective_from, effective_to in (
            RateCard.objects.filter(project__park=park)
            .order_by(
                "project__code", "task_type__code", "skill_level", "effective_from"
            )
            .values_list(
                "project__code",
                "task_type__code",
                "skill_level",
                "rate",
                "effective_from",
                "effective_to",
            )
        )
    ]
    last_run = (
        PayrollRun.objects.filter(period=period, status=RunStatus.DONE)
        .order_by("-finished_at", "-id")
        .first()
    )

    return {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": _moment(timezone.now()),
        "park": {"code": park.code, "name": park.name, "time_zone": park.time_zone},
        "period": {
            "month": f"{start:%Y-%m}",
            "status": period.status,
            "snapshot_at": _moment(snapshot),
            "calculated_at": _moment(period.calculated_at),
            "error_count": period.error_count,
            "errors": last_run.errors if last_run else [],
            "late_work_from": f"{late[1]:%Y-%m}" if late else None,
        },
        "policy": {k: _dec(v) for k, v in asdict(policy_for(park, last_day)).items()},
        "projects": projects,
        "task_types": task_types,
        "rate_cards": rate_cards,
        "workers": {
            workers[wid].employee_no: data for wid, data in sorted(inputs.items())
        },
        "payslips": [
            {
                "number": p.number,
                "employee_no": p.worker.employee_no,
                "contract": p.contract,
                "skill_level": p.skill_level,
                "minutes": p.minutes,
                "units": p.units,
                "accuracy": _dec(p.accuracy),
                **{name: _dec(getattr(p, name)) for name in RESULT_FIELDS},
                "warnings": p.warnings,
                "generated_at": _moment(p.generated_at),
                "lines": lines[p.id],
            }
            for p in payslips
        ],
    }


# --- verify -------------------------------------------------------------------------


@dataclass(frozen=True)
class Mismatch:
    number: str
    field: str
    stored: object
    recomputed: object

    def __str__(self) -> str:
        return (
            f"{self.number} {self.field}: stored {self.stored}, "
            f"recomputed {self.recomputed}"
        )


@dataclass
class Verification:
    park: str = ""
    month: str = ""
    payslips: int = 0
    checksum_ok: bool = False
    problems: list[str] = field(default_factory=list)  # the file as a whole
    mismatches: list[Mismatch] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.checksum_ok and not self.problems and not self.mismatches


def period_export_verify(*, document: dict) -> Verification:
    """Check an export's checksum and recompute every payslip from the file's
    inputs alone (no database), comparing every figure and line to the fen."""
    result = Verification()
    if not isinstance(document, dict) or not isinstance(document.get("content"), dict):
        result.problems.append(NOT_AN_EXPORT.format(reason="no content"))
        return result
    content = document["content"]
    if content.get("format") != FORMAT or content.get("version") != VERSION:
        result.problems.append(
            NOT_AN_EXPORT.format(
                reason=f"format {content.get('format')!r} version "
                f"{content.get('version')!r}"
            )
        )
        return result
    stored = (document.get("checksum") or {}).get("value")
    actual = content_checksum(content)
    result.checksum_ok = stored == actual
    if not result.checksum_ok:
        result.problems.append(CHECKSUM_MISMATCH.format(stored=stored, actual=actual))
    result.park = content["park"]["code"]
    result.month = content["period"]["month"]
    context = _Context(content)
    for payslip in content["payslips"]:
        result.payslips += 1
        try:
            expected = context.recompute(payslip["employee_no"])
        except (KeyError, ValueError, TypeError, InvalidOperation) as exc:
            employee_no = payslip.get("employee_no")
            if employee_no not in content.get("workers", {}):
                reason = NO_INPUTS.format(employee_no=employee_no)
            else:
                reason = f"{type(exc).__name__}: {exc}"
            result.mismatches.append(
                Mismatch(
                    payslip.get("number", "?"),
                    "payslip",
                    "stored",
                    CANNOT_RECOMPUTE.format(reason=reason),
                )
            )
            continue
        result.mismatches.extend(_compare(payslip, expected))
    return result


def _d(value) -> Decimal | None:
    return None if value is None else Decimal(value)


class _Context:
    """The file's inputs, indexed for recomputing one worker at a time."""

    def __init__(self, content: dict):
        self.content = content
        self.month = date.fromisoformat(content["period"]["month"] + "-01")
        self.start, self.end = month_bounds(self.month)
        self.last_day = self.end - timedelta(days=1)
        tz = ZoneInfo(content["park"]["time_zone"])
        self.first = datetime.combine(self.start, datetime.min.time(), tzinfo=tz)
        self.after_last = datetime.combine(self.end, datetime.min.time(), tzinfo=tz)
        self.policy = engine.Policy(
            **{k: Decimal(v) for k, v in content["policy"].items()}
        )
        self.projects = content["projects"]
        self.task_types = content["task_types"]
        self.tiers = {
            code: [
                engine.Tier(
                    Decimal(t["min_accuracy"]), Decimal(t["multiplier"]), t["label"]
                )
                for t in project["tiers"]
            ]
            for code, project in self.projects.items()
        }
        self.cards = defaultdict(list)
        for card in content["rate_cards"]:
            key = (card["project"], card["task_type"], card["skill_level"])
            self.cards[key].append(
                (
                    date.fromisoformat(card["effective_from"]),
                    card["effective_to"] and date.fromisoformat(card["effective_to"]),
                    Decimal(card["rate"]),
                )
            )

    def level_on(self, skills: list[dict], day: date) -> str:
        for period in skills:
            valid_from = date.fromisoformat(period["valid_from"])
            valid_to = period["valid_to"] and date.fromisoformat(period["valid_to"])
            if valid_from <= day and (not valid_to or day < valid_to):
                return period["level"]
        raise ValueError(f"no skill level on {day}")

    def rate_on(self, project: str, task_type: str, level: str, day: date) -> Decimal:
        for valid_from, valid_to, rate in self.cards[(project, task_type, level)]:
            if valid_from <= day and (not valid_to or day < valid_to):
                return rate
        raise ValueError(f"no rate card for {project}/{task_type}/{level} on {day}")

    def minutes(self, sessions: list[dict]) -> int:
        """R6.2/R1.1: minutes of the sessions inside the period."""
        total = 0
        for session in sessions:
            start = datetime.fromisoformat(session["start"])
            end = datetime.fromisoformat(session["end"])
            if self.first <= start and end <= self.after_last:
                total += session["minutes"]
                continue
            inside = min(end, self.after_last) - max(start, self.first)
            total += max(0, int(inside.total_seconds() // 60))
        return total

    def recompute(self, employee_no: str) -> dict:
        data = self.content["workers"][employee_no]
        items, on_time = [], []
        for record in data["records"]:
            day = date.fromisoformat(record["work_date"])
            level = self.level_on(data["skill_periods"], day)
            project, task_type = record["project"], record["task_type"]
            accuracy = _d(record["accuracy"])
            tier = engine.tier_for(accuracy, self.tiers[project])
            items.append(
                engine.PieceItem(
                    project=self.projects[project]["name"],
                    task_type=self.task_types[task_type]["name"],
                    unit=self.task_types[task_type]["unit"],
                    rate=self.rate_on(project, task_type, level, day),
                    multiplier=tier.multiplier,
                    tier=tier.label,
                    units=record["units"],
                    late_from=f"{day:%Y-%m}" if record["late"] else None,
                )
            )
            if not record["late"]:
                on_time.append((record["units"], accuracy))
        corrections = []
        for c in data.get("corrections", ()):  # files from before corrections
            day = date.fromisoformat(c["work_date"])
            level = self.level_on(data["skill_periods"], day)
            project, task_type = c["project"], c["task_type"]
            old = engine.tier_for(_d(c["old_accuracy"]), self.tiers[project])
            new = engine.tier_for(_d(c["new_accuracy"]), self.tiers[project])
            units, multiplier, tier = engine.correction_terms(
                c["kind"], c["old_units"], c["new_units"], old, new
            )
            corrections.append(
                engine.CorrectionItem(
                    project=self.projects[project]["name"],
                    task_type=self.task_types[task_type]["name"],
                    unit=self.task_types[task_type]["unit"],
                    rate=self.rate_on(project, task_type, level, day),
                    multiplier=multiplier,
                    tier=tier.label,
                    units=units,
                    corrects=f"{day:%Y-%m}",
                    reason=c["reason"],
                )
            )
        months = months_employed(date.fromisoformat(data["hire_date"]), self.start)
        carried = data["carried_in"]
        minutes = self.minutes(data["sessions"])
        result = engine.compute_pay(
            engine.PayInput(
                contract=data["contract"],
                minutes=minutes,
                items=tuple(items),
                corrections=tuple(corrections),
                adjustments=tuple(
                    engine.AdjustmentItem(a["kind"], Decimal(a["amount"]), a["reason"])
                    for a in data["adjustments"]
                ),
                policy=self.policy,
                insured=data["insured"],
                si_declared_base=Decimal(data["si_base"]),
                months_employed=months,
                special_deductions_to_date=_special_to_date(data, months),
                full_year_basic_deduction=data["full_year_basic_deduction"],
                ytd=engine.YearToDate(
                    **{k: Decimal(v) for k, v in data["year_to_date"].items()}
                ),
                carried_in=Decimal(carried["amount"]),
                carried_in_from=carried["from"],
            )
        )
        started = [
            s for s in data["skill_periods"] if s["valid_from"] <= f"{self.last_day}"
        ]
        return {
            "contract": data["contract"],
            "skill_level": started[-1]["level"] if started else "",
            "minutes": minutes,
            "units": sum(units for units, _acc in on_time),
            "accuracy": engine.period_accuracy(on_time),
            **{name: getattr(result, name) for name in RESULT_FIELDS},
            "lines": [
                {
                    "position": position,
                    "kind": str(line.kind),
                    "project": line.project,
                    "task_type": line.task_type,
                    "unit": line.unit,
                    "quantity": line.quantity,
                    "rate": line.rate,
                    "multiplier": line.multiplier,
                    "tier": line.tier,
                    "ref_period": line.period or "",
                    "reason": line.reason,
                    "amount": line.amount,
                }
                for position, line in enumerate(result.lines, start=1)
            ],
        }


def _same(stored, recomputed) -> bool:
    if isinstance(recomputed, Decimal) or (
        recomputed is None and isinstance(stored, str) and _is_number(stored)
    ):
        return _d(stored) == recomputed
    return stored == recomputed


def _is_number(text: str) -> bool:
    try:
        Decimal(text)
    except InvalidOperation:
        return False
    return True


def _compare(payslip: dict, expected: dict) -> list[Mismatch]:
    number = payslip["number"]
    out = []
    for name in ("contract", "skill_level", "minutes", "units", "accuracy"):
        if not _same(payslip[name], expected[name]):
            out.append(Mismatch(number, name, payslip[name], expected[name]))
    for name in RESULT_FIELDS:
        if _d(payslip[name]) != expected[name]:
            out.append(Mismatch(number, name, payslip[name], expected[name]))
    stored_lines, lines = payslip["lines"], expected["lines"]
    if len(stored_lines) != len(lines):
        out.append(Mismatch(number, "lines", len(stored_lines), len(lines)))
    for stored, line in zip(stored_lines, lines, strict=False):
        for name in ("position", *LINE_FIELDS):
            value = stored.get(name)
            if name in DECIMAL_LINE_FIELDS:
                same = _d(value) == line[name]
            else:
                same = value == line[name]
            if not same:
                out.append(
                    Mismatch(
                        number, f"line {line['position']} {name}", value, line[name]
                    )
                )
    return out
