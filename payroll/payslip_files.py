"""Payslip PDF files in Django's default storage (R14, R13.1).

- ``payslip_pdfs_render``: render and store a chunk of payslips, each at
  ``payslips/<park>/<YYYY-MM>/<number>-<token>.pdf`` (the number is stable
  across recalculations, so a recalculated payslip overwrites its file), and
  keep the name and the SHA-256 of the content on the payslip. The token is a
  keyed hash of the name (``SECRET_KEY``): stable, yet nobody who knows a
  payslip's number can derive where its file is. Files are served only by the
  authenticated view (``payslip_pdf_for_user``), never as static media.
- ``payslip_pdfs_finish``: when no payslip of the period is left without its
  PDF, delete every file of the period's folder that belongs to no current
  payslip (a recalculation deletes payslip rows with raw SQL and may drop
  workers; their files would otherwise stay).
- ``payslip_bundle_*``: one PDF of all the period's payslips for the director,
  stored under a name carrying a fingerprint of the payslips' hashes, so that a
  stored bundle is current exactly when its name matches.

"PDFs pending" is visible as a count: ``period_pdf_status`` (payslips whose
``pdf_sha256`` is empty; a recalculation writes its payslips so).
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import NamedTuple

from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils.crypto import salted_hmac

from audit.services import audit_record
from payroll import pdf
from payroll.models import PayPeriod, Payslip, PayslipLine
from payroll.queue import RENDER_PAYSLIP_BUNDLE, enqueue_on_commit
from payroll.selectors import PAY_STAFF, payslip_list, period_list
from workforce.selectors import user_roles

logger = logging.getLogger(__name__)

PDF_DIR = "payslips"
BUNDLE_DIR = "payslip-bundles"
BUNDLE_BATCH = 500


def payslip_pdf_folder(*, park_code: str, month: date) -> str:
    return f"{PDF_DIR}/{park_code}/{month:%Y-%m}"


def payslip_pdf_filename(*, park_code: str, month: date, number: str) -> str:
    """The file name of a payslip's PDF: its number and a keyed token."""
    token = salted_hmac(
        "payroll.payslip_files.pdf", f"{park_code}/{month:%Y-%m}/{number}"
    ).hexdigest()[:32]
    return f"{number}-{token}.pdf"


def payslip_pdf_name(*, park_code: str, month: date, number: str) -> str:
    """Where a payslip's PDF lives; the same for every recalculation."""
    folder = payslip_pdf_folder(park_code=park_code, month=month)
    filename = payslip_pdf_filename(park_code=park_code, month=month, number=number)
    return f"{folder}/{filename}"


def _expected_name(payslip: Payslip) -> str:
    period = payslip.period
    return payslip_pdf_name(
        park_code=period.park.code, month=period.month, number=payslip.number
    )


class LineView(NamedTuple):
    """What a PDF shows of a payslip line (read without model instances)."""

    kind: str
    project: str
    task_type: str
    unit: str
    quantity: Decimal | None
    rate: Decimal | None
    multiplier: Decimal | None
    tier: str
    ref_period: str
    reason: str
    amount: Decimal
    pending_units: int = 0


def _lines_by_payslip(ids: list[int]) -> dict[int, list[LineView]]:
    lines = defaultdict(list)
    for payslip_id, *values in (
        PayslipLine.objects.filter(payslip_id__in=ids)
        .order_by("payslip_id", "position")
        .values_list("payslip_id", *LineView._fields)
    ):
        lines[payslip_id].append(LineView(*values))
    return lines


def _store(name: str, data: bytes) -> str:
    """Write ``data`` at ``name``, replacing an earlier file there."""
    if default_storage.exists(name):
        default_storage.delete(name)
    saved = default_storage.save(name, ContentFile(data))
    if saved != name:  # pragma: no cover - only if another writer raced us
        logger.warning("payslip PDF stored as %s instead of %s", saved, name)
    return saved


def payslip_pdfs_render(*, payslip_ids: list[int], force: bool = False) -> int:
    """Render and store the PDFs of ``payslip_ids``; returns how many were written.

    Idempotent: ids of payslips deleted since (a recalculation) are skipped, and
    so is a payslip whose PDF is stored already (unless ``force``). The rows are
    locked while their files are written, so a recalculation of the same workers
    waits instead of deleting a row under a half-written file.
    """
    if not payslip_ids:
        return 0
    with transaction.atomic():
        payslips = list(
            Payslip.objects.select_for_update(of=("self",))
            .filter(id__in=payslip_ids)
            .select_related("worker__team", "period__park")
            .order_by("id")
        )
        todo = []
        for payslip in payslips:
            name = _expected_name(payslip)
            if (
                not force
                and payslip.pdf_sha256
                and payslip.pdf.name == name
                and default_storage.exists(name)
            ):
                continue
            todo.append((payslip, name))
        if not todo:
            return 0
        lines = _lines_by_payslip([p.id for p, _name in todo])
        for payslip, name in todo:
            data = pdf.render_payslip(payslip, lines.get(payslip.id, []))
            payslip.pdf.name = _store(name, data)
            payslip.pdf_sha256 = hashlib.sha256(data).hexdigest()
        # One statement per row: bulk_update's CASE expression cost more than
        # writing the files.
        table = connection.ops.quote_name(Payslip._meta.db_table)
        with connection.cursor() as cursor:
            cursor.executemany(
                f"UPDATE {table} SET pdf = %s, pdf_sha256 = %s WHERE id = %s",
                [(p.pdf.name, p.pdf_sha256, p.pk) for p, _n in todo],
            )
        periods = {p.period_id: p.period for p, _n in todo}
        for period in periods.values():
            audit_record(
                actor=None,
                park=period.park,
                action="payslip.pdf",
                obj=period,
                after={
                    "rendered": sum(1 for p, _n in todo if p.period_id == period.id)
                },
            )
    return len(todo)


def payslip_pdf_chunks(*, period_id: int, chunk_size: int) -> list[list[int]]:
    """Ids of the period's payslips still without a PDF, in chunks."""
    ids = list(
        Payslip.objects.filter(period_id=period_id, pdf_sha256="")
        .order_by("id")
        .values_list("id", flat=True)
    )
    return [ids[i : i + chunk_size] for i in range(0, len(ids), chunk_size)]


def payslip_pdfs_cleanup(*, period: PayPeriod) -> list[str]:
    """Delete files in the period's folder that belong to no current payslip."""
    folder = payslip_pdf_folder(park_code=period.park.code, month=period.month)
    try:
        _dirs, files = default_storage.listdir(folder)
    except FileNotFoundError:
        return []
    # Listed before the rows are read: a file is written only for a row that
    # exists, so a file listed here has its row visible below if it has one.
    keep = set()
    for number, name in Payslip.objects.filter(period=period).values_list(
        "number", "pdf"
    ):
        keep.add(
            payslip_pdf_filename(
                park_code=period.park.code, month=period.month, number=number
            )
        )
        if name:
            keep.add(name.rsplit("/", 1)[-1])
    removed = []
    for filename in sorted(files):
        if filename not in keep:
            default_storage.delete(f"{folder}/{filename}")
            removed.append(filename)
    if removed:
        logger.info("removed %s PDFs of deleted payslips of %s", len(removed), period)
    return removed


def payslip_pdfs_finish(*, period_id: int) -> bool:
    """Clean the period's folder once every payslip has its PDF, and queue the
    bundle of them all, so that the first click on it finds it made; True if
    done."""
    period = PayPeriod.objects.select_related("park").filter(pk=period_id).first()
    if period is None:
        return False
    if Payslip.objects.filter(period=period, pdf_sha256="").exists():
        return False
    payslip_pdfs_cleanup(period=period)
    _remove_stale_bundles(period)
    name = payslip_bundle_name(period=period)
    if name is not None and not default_storage.exists(name):
        enqueue_on_commit(RENDER_PAYSLIP_BUNDLE, period.pk)
    return True


def _remove_stale_bundles(period: PayPeriod) -> None:
    """A bundle of earlier payslips is never served again: delete it."""
    folder = payslip_bundle_folder(period=period)
    try:
        _dirs, files = default_storage.listdir(folder)
    except FileNotFoundError:
        return
    current = payslip_bundle_name(period=period)
    for filename in files:
        if f"{folder}/{filename}" != current:
            default_storage.delete(f"{folder}/{filename}")


@dataclass(frozen=True)
class PdfStatus:
    payslips: int
    rendered: int
    pending: int
    bundle: str | None  # storage name of a current bundle, if one is stored


def period_pdf_status(*, period: PayPeriod) -> PdfStatus:
    """How far the period's PDFs are: counts, and the current bundle if any."""
    total = Payslip.objects.filter(period=period).count()
    pending = Payslip.objects.filter(period=period, pdf_sha256="").count()
    bundle = None
    if total and not pending:
        name = payslip_bundle_name(period=period)
        if name and default_storage.exists(name):
            bundle = name
    return PdfStatus(total, total - pending, pending, bundle)


# --- the park-wide bundle ----------------------------------------------------


def payslip_bundle_fingerprint(*, period: PayPeriod) -> str | None:
    """A digest of the period's payslips and PDF hashes; None while any PDF is
    pending (the bundle would show a payslip that is being replaced)."""
    digest = hashlib.sha256()
    count = 0
    for number, sha in (
        Payslip.objects.filter(period=period)
        .order_by("number")
        .values_list("number", "pdf_sha256")
    ):
        if not sha:
            return None
        digest.update(f"{number}:{sha}\n".encode())
        count += 1
    digest.update(f"count:{count}".encode())
    return digest.hexdigest()[:16]


def payslip_bundle_folder(*, period: PayPeriod) -> str:
    return f"{BUNDLE_DIR}/{period.park.code}/{period.month:%Y-%m}"


def payslip_bundle_name(
    *, period: PayPeriod, fingerprint: str | None = None
) -> str | None:
    fingerprint = fingerprint or payslip_bundle_fingerprint(period=period)
    if fingerprint is None:
        return None
    folder = payslip_bundle_folder(period=period)
    return f"{folder}/{period.park.code}-{period.month:%Y-%m}-{fingerprint}.pdf"


def payslips_with_lines(
    payslips: QuerySet[Payslip], *, batch: int = BUNDLE_BATCH
) -> Iterator[tuple[Payslip, list[LineView]]]:
    """``(payslip, lines)`` pairs ready for ``pdf.draw_payslip``, in the
    queryset's order, loaded a batch at a time (two queries per batch)."""
    ids = list(payslips.values_list("id", flat=True))
    for start in range(0, len(ids), batch):
        chunk = ids[start : start + batch]
        loaded = {
            p.id: p
            for p in Payslip.objects.filter(id__in=chunk).select_related(
                "worker__team", "period__park"
            )
        }
        lines = _lines_by_payslip(chunk)
        for pk in chunk:
            if pk in loaded:
                yield loaded[pk], lines.get(pk, [])


def _bundle_items(period: PayPeriod) -> Iterator[tuple[Payslip, list]]:
    return payslips_with_lines(
        Payslip.objects.filter(period=period).order_by("worker__employee_no")
    )


def payslip_bundle_build(*, period_id: int) -> str | None:
    """Store the bundle of the period's current payslips; returns its storage
    name, or None while PDFs are pending. Idempotent: a current bundle is kept,
    older ones are deleted."""
    period = PayPeriod.objects.select_related("park").get(pk=period_id)
    fingerprint = payslip_bundle_fingerprint(period=period)
    if fingerprint is None:
        return None
    name = payslip_bundle_name(period=period, fingerprint=fingerprint)
    if not default_storage.exists(name):
        with tempfile.TemporaryFile() as target:
            pdf.render_bundle(
                _bundle_items(period),
                target,
                title=f"工资条 Payslips {period.park.code} {period.month:%Y-%m}",
            )
            target.seek(0)
            if default_storage.exists(name):  # pragma: no cover - a racing build
                default_storage.delete(name)
            name = default_storage.save(name, File(target))
    _remove_stale_bundles(period)
    return name


@dataclass(frozen=True)
class BundleStatus:
    period_id: int
    ready: bool
    name: str | None  # storage name when ready
    filename: str  # what a download is called
    pending: int  # payslips still without their PDF
    queued: bool  # a build was queued by this call


def payslip_bundle_status(*, period: PayPeriod, queue: bool = True) -> BundleStatus:
    """The bundle of ``period`` if stored; else queue its build (on commit) when
    every PDF is there. Permission checks are the caller's (see ``_for_user``)."""
    status = period_pdf_status(period=period)
    filename = f"payslips-{period.park.code}-{period.month:%Y-%m}.pdf"
    queued = False
    if status.bundle is None and queue and status.payslips and not status.pending:
        enqueue_on_commit(RENDER_PAYSLIP_BUNDLE, period.pk)
        queued = True
    return BundleStatus(
        period_id=period.pk,
        ready=status.bundle is not None,
        name=status.bundle,
        filename=filename,
        pending=status.pending,
        queued=queued,
    )


def payslip_bundle_for_user(*, user, period_id: int) -> BundleStatus:
    """For the web layer: the director's (or payroll officer's) bundle.

    Another park's period, or a user who is not pay staff, answers
    ``PayPeriod.DoesNotExist`` (404). When ready, stream it with
    ``FileResponse(default_storage.open(status.name), filename=status.filename)``.
    """
    if not (user.is_superuser or user_roles(user) & PAY_STAFF):
        raise PayPeriod.DoesNotExist
    period = period_list(user=user).get(pk=period_id)
    return payslip_bundle_status(period=period)


def payslip_pdf_for_user(*, user, pk: int) -> tuple[str, File]:
    """For the web layer: one payslip's PDF as (download name, open file).

    Scoped like ``payslip_get`` (a worker gets only their own; 404 otherwise).
    A PDF not rendered yet is rendered and stored now. The lines are not read
    here: a stored file is served as it is, and rendering reads them itself.
    """
    payslip = payslip_list(user=user).get(pk=pk)
    if (
        not payslip.pdf_sha256
        or payslip.pdf.name != _expected_name(payslip)  # stored under an old name
        or not default_storage.exists(payslip.pdf.name)
    ):
        payslip_pdfs_render(payslip_ids=[payslip.pk], force=True)
        payslip.refresh_from_db(fields=["pdf", "pdf_sha256"])
    return f"{payslip.number}.pdf", default_storage.open(payslip.pdf.name)
