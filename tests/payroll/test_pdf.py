"""Payslip PDFs (R14): content read back with pypdf, storage, recalculation
(R13.1), the director's bundle, and who may download what."""

import hashlib
import io
import time
from datetime import date
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command
from pypdf import PdfReader

from config import celery_app
from documents.fonts import FONT_SHA256, font_embedded, font_path
from payroll import payslip_files, periods, tasks
from payroll.engine import LineKind
from payroll.models import PayPeriod, Payslip, PayslipLine
from payroll.pdf import money, render_bundle, render_payslip
from tests import factories
from tests.broker import WorkerProcess, needs_broker, purge_broker
from tests.factories import (
    add_record,
    make_catalogue,
    make_park,
    make_user,
    make_worker,
)
from workforce.services import worker_leave

SH = ZoneInfo("Asia/Shanghai")
MARCH = date(2026, 3, 1)
pytestmark = pytest.mark.django_db(transaction=False)


def add_hours(worker, day, hours, start_hour=7):
    return factories.add_hours(worker, day, hours, start_hour=start_hour)


def calculate(period, actor=None):
    """Start a run; its on-commit tasks (calculation, then PDFs) run here."""
    run = factories.calculate(period, actor=actor)
    assert run.status == "done", run.message
    return run


def text_of(data: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


def filename(period, number: str) -> str:
    return payslip_files.payslip_pdf_filename(
        park_code=period.park.code, month=period.month, number=number
    )


def stored_bytes(payslip) -> bytes:
    with default_storage.open(payslip.pdf.name) as stream:
        return stream.read()


def period_files(period) -> set[str]:
    folder = payslip_files.payslip_pdf_folder(
        park_code=period.park.code, month=period.month
    )
    try:
        return set(default_storage.listdir(folder)[1])
    except FileNotFoundError:
        return set()


@pytest.fixture
def march(park):
    return periods.period_get_or_create(park=park, month=MARCH)


@pytest.fixture
def director(park):
    return make_user("director", park=park)


@pytest.fixture
def rich_worker(park, director, march):
    """A full-time insured worker with every kind of line and a long day."""
    worker = make_worker(park, name="马小花", insured=True, si_base=Decimal("5000.00"))
    project, task_type = make_catalogue(park, rate=Decimal("0.5000"))
    add_record(worker, project, task_type, date(2026, 3, 2), 4000, "98.50")
    add_record(worker, project, task_type, date(2026, 3, 3), 3000, "96.00")
    add_record(worker, project, task_type, date(2026, 3, 4), 500, "91.00")
    add_record(worker, project, task_type, date(2026, 3, 5), 200, "80.00")
    add_record(worker, project, task_type, date(2026, 3, 6), 300, None)
    add_hours(worker, date(2026, 3, 2), 12)  # R8: over 11 h
    for day in range(3, 10):
        add_hours(worker, date(2026, 3, day), 6)
    periods.adjustment_add(
        period=march,
        worker=worker,
        kind="bonus",
        amount=Decimal("200"),
        reason="全勤奖 full attendance",
        actor=director,
    )
    periods.adjustment_add(
        period=march,
        worker=worker,
        kind="deduction",
        amount=Decimal("50"),
        reason="工牌补办 badge",
        actor=director,
    )
    return worker


def test_font_is_the_pinned_truetype_font():
    """The CJK font is a TrueType file reportlab embeds, with the known bytes."""
    path = font_path()
    assert path is not None and font_embedded()
    assert hashlib.sha256(Path(path).read_bytes()).hexdigest() == FONT_SHA256


def test_payslip_pdf_shows_name_net_and_every_line(park, march, rich_worker):
    """R14: after a run every payslip has a one-page A4 PDF in storage whose text
    holds the Chinese name, the net pay and every line's amount; the font is
    embedded; the stored hash is the file's."""
    calculate(march)
    slip = Payslip.objects.get(worker=rich_worker, period=march)
    assert slip.pdf.name == (
        f"payslips/{park.code}/2026-03/{filename(march, slip.number)}"
    )
    data = stored_bytes(slip)
    assert hashlib.sha256(data).hexdigest() == slip.pdf_sha256

    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 1
    page = reader.pages[0]
    assert [round(float(v)) for v in page.mediabox[2:]] == [595, 842]  # A4
    text = page.extract_text()
    assert "马小花" in text and rich_worker.employee_no in text
    assert slip.number in text
    assert "实发工资" in text and "Net pay" in text
    assert f"¥ {money(slip.net)}" in text
    lines = list(slip.lines.all())
    kinds = {line.kind for line in lines}
    assert {LineKind.PIECE, LineKind.BONUS, LineKind.DEDUCTION, LineKind.PENSION} <= (
        kinds
    )
    for line in lines:
        assert money(line.amount) in text, line
    for label in ("优秀 Excellent", "不合格，需返工"):
        assert label in text
    # R4.3: pending units are counted on the standard line they belong to.
    pending = next(line.pending_units for line in lines if line.pending_units)
    assert f"其中待审核 {pending:,} pending review" in text
    # R8 warning, readable in both languages.
    assert "单日工作超过 11 小时" in text and "2026-03-02 12.00 h" in text
    assert money(slip.ytd_taxable) in text and money(slip.taxable) in text
    # Generation time in the park's zone.
    local = slip.generated_at.astimezone(SH)
    assert f"{local:%Y-%m-%d %H:%M} (Asia/Shanghai)" in text

    fonts = page["/Resources"]["/Font"]
    embedded = [
        font.get_object()
        for font in fonts.values()
        if "WenQuanYi" in str(font.get_object()["/BaseFont"])
    ]
    assert embedded, "the CJK font is referenced"


def test_rendering_is_deterministic(park, march, rich_worker):
    """The same payslip renders to the same bytes, so the hash changes exactly
    when the content does."""
    calculate(march)
    slip = Payslip.objects.select_related("worker__team", "period__park").get(
        worker=rich_worker
    )
    lines = list(slip.lines.all())
    assert (
        render_payslip(slip, lines)
        == render_payslip(slip, lines)
        == (stored_bytes(slip))
    )


def test_recalculation_replaces_pdfs_and_removes_orphans(park, march):
    """R13.1: a recalculation replaces each PDF (new hash, same path), leaves no
    payslip without its PDF and no PDF of a payslip that no longer exists."""
    stays, goes = make_worker(park), make_worker(park, hire_date=date(2025, 6, 1))
    project, task_type = make_catalogue(park)
    for worker in (stays, goes):
        add_record(worker, project, task_type, date(2026, 3, 2), 100)
        add_hours(worker, date(2026, 3, 2), 4)
    calculate(march)
    before = {s.number: s for s in Payslip.objects.filter(period=march)}
    assert len(before) == 2 and all(s.pdf_sha256 for s in before.values())
    assert period_files(march) == {filename(march, n) for n in before}

    # The second worker left before March: no longer paid in it.
    Payslip.objects.filter(period=march, worker=goes).delete()  # earlier slip
    worker_leave(worker=goes, leave_date=date(2026, 2, 27))
    add_record(stays, project, task_type, date(2026, 3, 3), 50)
    calculate(march)

    after = {s.number: s for s in Payslip.objects.filter(period=march)}
    number = Payslip.objects.get(worker=stays, period=march).number
    assert set(after) == {number}
    slip = after[number]
    assert slip.pdf.name == before[number].pdf.name
    assert slip.pdf_sha256 and slip.pdf_sha256 != before[number].pdf_sha256
    assert hashlib.sha256(stored_bytes(slip)).hexdigest() == slip.pdf_sha256
    assert period_files(march) == {filename(march, number)}
    assert payslip_files.period_pdf_status(period=march).pending == 0


def test_recalculation_without_changes_still_gets_a_new_pdf(park, march):
    """A recalculated payslip is a new payslip (new generation time): its PDF is
    replaced even when the figures are the same."""
    worker = make_worker(park)
    project, task_type = make_catalogue(park)
    add_record(worker, project, task_type, date(2026, 3, 2), 100)
    calculate(march)
    first = Payslip.objects.get(worker=worker)
    calculate(march)
    second = Payslip.objects.get(worker=worker)
    assert second.pk != first.pk and second.net == first.net
    assert second.pdf_sha256 != first.pdf_sha256
    assert hashlib.sha256(stored_bytes(second)).hexdigest() == second.pdf_sha256
    assert period_files(march) == {filename(march, second.number)}


def test_removed_worker_file_goes_even_without_payslips_left(park, march):
    """When a recalculation leaves no payslip to render, the folder is still
    cleaned of the removed payslips' files."""
    worker = make_worker(park, hire_date=date(2025, 6, 1))
    project, task_type = make_catalogue(park)
    add_record(worker, project, task_type, date(2026, 3, 2), 100)
    calculate(march)
    assert len(period_files(march)) == 1
    worker_leave(worker=worker, leave_date=date(2026, 2, 27))
    calculate(march)
    assert not Payslip.objects.filter(period=march).exists()
    assert period_files(march) == set()


def test_render_task_is_idempotent(park, march, settings):
    """A chunk delivered twice renders once; ids of deleted payslips are skipped;
    pending PDFs are counted until the chunk ran."""
    settings.PAYSLIP_PDF_AFTER_RUN = False
    workers = [make_worker(park) for _ in range(3)]
    project, task_type = make_catalogue(park)
    for worker in workers:
        add_record(worker, project, task_type, date(2026, 3, 2), 100)
    calculate(march)
    status = payslip_files.period_pdf_status(period=march)
    assert (status.payslips, status.pending, status.bundle) == (3, 3, None)
    ids = list(Payslip.objects.filter(period=march).values_list("id", flat=True))
    assert tasks.render_payslips.delay([*ids, 10**9], march.pk).get() == 3
    hashes = dict(Payslip.objects.values_list("id", "pdf_sha256"))
    assert tasks.render_payslips.delay(ids, march.pk).get() == 0
    assert dict(Payslip.objects.values_list("id", "pdf_sha256")) == hashes
    assert payslip_files.period_pdf_status(period=march).pending == 0


def test_bundle_has_one_page_per_payslip(park, march, director):
    """The director's bundle: made with the calculation's PDFs, so the first
    click downloads it; one page per payslip, each page that worker's; a
    recalculation makes a new bundle and removes the old one."""
    names = ["王秀英", "李建国", "张玉兰"]
    project, task_type = make_catalogue(park)
    for name in names:
        worker = make_worker(park, name=name)
        add_record(worker, project, task_type, date(2026, 3, 2), 120)
    calculate(march)
    status = payslip_files.payslip_bundle_for_user(user=director, period_id=march.pk)
    assert status.ready and not status.queued
    assert status.filename == f"payslips-{park.code}-2026-03.pdf"
    with default_storage.open(status.name) as stream:
        pages = text_of(stream.read())
    slips = list(Payslip.objects.filter(period=march).order_by("worker__employee_no"))
    assert len(pages) == len(slips) == 3
    for page, slip in zip(pages, slips, strict=True):
        assert slip.worker.name in page and f"¥ {money(slip.net)}" in page

    old = status.name
    calculate(march)
    assert not default_storage.exists(old)  # stale once the new PDFs are in
    new = payslip_files.payslip_bundle_for_user(user=director, period_id=march.pk)
    assert new.ready and not new.queued and new.name != old


def test_bundle_and_payslip_downloads_are_scoped(park, march, director):
    """A worker gets only their own payslip PDF and never the bundle; another
    park's director gets neither (404)."""
    own = make_worker(park, with_login=True)
    other = make_worker(park, with_login=True)
    project, task_type = make_catalogue(park)
    for worker in (own, other):
        add_record(worker, project, task_type, date(2026, 3, 2), 100)
    calculate(march)
    mine = Payslip.objects.get(worker=own)
    name, stream = payslip_files.payslip_pdf_for_user(user=own.user, pk=mine.pk)
    with stream:
        assert name == f"{mine.number}.pdf" and stream.read()[:5] == b"%PDF-"
    theirs = Payslip.objects.get(worker=other)
    with pytest.raises(Payslip.DoesNotExist):
        payslip_files.payslip_pdf_for_user(user=own.user, pk=theirs.pk)
    with pytest.raises(PayPeriod.DoesNotExist):
        payslip_files.payslip_bundle_for_user(user=own.user, period_id=march.pk)
    stranger = make_user("director", park=make_park())
    with pytest.raises(PayPeriod.DoesNotExist):
        payslip_files.payslip_bundle_for_user(user=stranger, period_id=march.pk)
    with pytest.raises(Payslip.DoesNotExist):
        payslip_files.payslip_pdf_for_user(user=stranger, pk=mine.pk)


def test_many_lines_continue_on_a_second_page(park, march):
    """A payslip too long for one page continues on the next, every amount shown."""
    worker = make_worker(park)
    project, task_type = make_catalogue(park)
    add_record(worker, project, task_type, date(2026, 3, 2), 10)
    calculate(march)
    slip = Payslip.objects.select_related("worker__team", "period__park").get(
        worker=worker
    )
    lines = [
        PayslipLine(
            payslip=slip,
            position=i,
            kind="bonus",
            reason=f"奖励 {i}",
            amount=Decimal(1000 + i) / 100,
        )
        for i in range(1, 41)
    ]
    pages = text_of(render_payslip(slip, lines))
    assert len(pages) == 2
    text = "".join(pages)
    for line in lines:
        assert money(line.amount) in text
    buffer = io.BytesIO()
    assert render_bundle([(slip, lines), (slip, lines[:3])], buffer, title="t") == 3


def test_payslips_command_writes_files(park, march, tmp_path):
    """``manage.py payslips 2026-03 --out DIR`` writes one PDF per payslip and a
    bundle, and prints where."""
    project, task_type = make_catalogue(park)
    workers = [make_worker(park) for _ in range(3)]
    for worker in workers:
        add_record(worker, project, task_type, date(2026, 3, 2), 100)
    calculate(march)
    out = io.StringIO()
    call_command(
        "payslips",
        "2026-03",
        park=park.code,
        out=str(tmp_path),
        bundle=True,
        stdout=out,
    )
    files = sorted(p.name for p in tmp_path.iterdir())
    numbers = sorted(Payslip.objects.values_list("number", flat=True))
    assert files == sorted(
        [f"{n}.pdf" for n in numbers] + [f"payslips-{park.code}-2026-03.pdf"]
    )
    assert f"3 payslip PDF(s) written to {tmp_path}" in out.getvalue()
    assert "3/3 files" in out.getvalue()
    single = io.StringIO()
    call_command(
        "payslips",
        "2026-03",
        worker=workers[0].employee_no,
        out=str(tmp_path / "one"),
        stdout=single,
    )
    assert (tmp_path / "one" / f"{numbers[0]}.pdf").exists()


@pytest.mark.broker
@needs_broker
@pytest.mark.django_db(transaction=True)
def test_pdfs_rendered_by_a_real_worker_after_the_run():
    """Through Redis: the worker that finishes the run queues the PDF tasks
    (chunks of 2 here) and renders every payslip's PDF."""
    purge_broker()
    celery_app.conf.task_always_eager = False
    proc = WorkerProcess(PAYSLIP_PDF_CHUNK_SIZE=2).start()
    try:
        park = make_park()
        project, task_type = make_catalogue(park)
        for _ in range(5):
            worker = make_worker(park)
            add_record(worker, project, task_type, date(2026, 3, 2), 100)
        period = periods.period_get_or_create(park=park, month=MARCH)
        run = periods.wait_for_run(periods.payroll_run_start(period=period), timeout=90)
        assert run.status == "done", run.message
        deadline = time.monotonic() + 90
        while payslip_files.period_pdf_status(period=period).pending:
            assert time.monotonic() < deadline, proc.output()[-3000:]
            time.sleep(0.5)
        slips = Payslip.objects.filter(period=period)
        assert slips.count() == 5
        for slip in slips:
            assert len(slip.pdf_sha256) == 64
            assert slip.pdf.name == payslip_files.payslip_pdf_name(
                park_code=park.code, month=MARCH, number=slip.number
            )
        assert "payroll.render_payslips" in proc.output()
    finally:
        celery_app.conf.task_always_eager = True
        proc.stop()
