"""Period backups (issue 7, item 7): export_period writes a period's payslips and
inputs with a checksum; verify_period recomputes them from the file alone."""

import json
from datetime import date, datetime, timedelta
from decimal import Decimal
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command

from payroll import backup, periods
from payroll.models import Payslip
from payroll.services import project_create, rate_card_create, work_record_create
from tests.factories import make_catalogue, make_park, make_user, make_worker
from workforce.services import work_session_log, worker_set_skill_level

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
FEB, MARCH = date(2026, 2, 1), date(2026, 3, 1)

_ext = iter(range(1, 10**9))


def add_record(worker, project, task_type, day, units, accuracy="97.00"):
    return work_record_create(
        worker=worker,
        project=project,
        task_type=task_type,
        work_date=day,
        units=units,
        accuracy=None if accuracy is None else Decimal(accuracy),
        source="backup",
        external_id=f"b{next(_ext)}",
    )


def calculate(period):
    run = periods.payroll_run_inline(
        run=periods.payroll_run_start(period=period, enqueue=False)
    )
    assert run.status == "done" and run.error_count == 0, run.errors
    return run


@pytest.fixture
def park_with_march(settings):
    """A park whose March uses every kind of input: two projects (one with its
    own tiers), a price change and a promotion mid-month, pending records, late
    February work, a session across the month boundary, adjustments, insurance,
    tax, and a deduction carried in from February."""
    settings.PAYSLIP_PDF_AFTER_RUN = False
    park = make_park()
    director = make_user("director", park=park)
    project, task_type = make_catalogue(park, rate=Decimal("0.5000"))
    lanes = project_create(
        client=project.client,
        park=park,
        code=f"lanes{park.pk}",
        name="车道线 Lanes",
        tiers=(
            (Decimal("97.50"), Decimal("1.25"), "excellent"),
            (Decimal("92.00"), Decimal("1.00"), "standard"),
            (Decimal("0.00"), Decimal("0.35"), "poor"),
        ),
    )
    for level, rate in (("trainee", "0.1234"), ("junior", "0.3333"), ("senior", "1")):
        rate_card_create(
            project=lanes,
            task_type=task_type,
            skill_level=level,
            rate=Decimal(rate),
            effective_from=date(2020, 1, 1),
        )
    rate_card_create(
        project=lanes,
        task_type=task_type,
        skill_level="junior",
        rate=Decimal("0.3777"),
        effective_from=date(2026, 3, 16),
    )
    full = make_worker(
        park,
        contract="full_time",
        hire_date=date(2026, 2, 1),
        insured=True,
        si_base=Decimal("6100.00"),
        special_deduction_monthly=Decimal("1000.00"),
    )
    part = make_worker(park, contract="part_time", skill_level="trainee")
    trainee = make_worker(park, contract="training", skill_level="trainee")
    feb = periods.period_get_or_create(park=park, month=FEB)
    march = periods.period_get_or_create(park=park, month=MARCH)

    add_record(full, project, task_type, date(2026, 2, 3), 30000, "98.50")
    add_record(part, project, task_type, date(2026, 2, 3), 100)
    periods.adjustment_add(
        period=feb,
        worker=part,
        kind="deduction",
        amount=Decimal("400.00"),
        reason="Advance",
        actor=director,
    )
    # Logged before February closes (R13.5): 3 h before and 2 h after 1 March.
    start = datetime(2026, 2, 28, 21, tzinfo=SH)
    work_session_log(worker=part, start=start, end=start + timedelta(hours=5))
    calculate(feb)
    periods.period_approve(period=feb, actor=director)

    worker_set_skill_level(worker=part, level="junior", valid_from=date(2026, 3, 10))
    add_record(part, project, task_type, date(2026, 2, 25), 70)  # late February work
    for day, units, accuracy in ((2, 900, "99.00"), (12, 800, None), (20, 700, "93")):
        add_record(full, project, task_type, date(2026, 3, day), units * 20, accuracy)
        add_record(part, lanes, task_type, date(2026, 3, day), units, accuracy)
        add_record(trainee, lanes, task_type, date(2026, 3, day), units // 3, "88.12")
    for day in range(2, 20):
        start = datetime(2026, 3, day, 8, 30, tzinfo=SH)
        work_session_log(
            worker=full, start=start, end=start + timedelta(hours=7, minutes=13)
        )
    for kind, amount in (("bonus", "250.00"), ("allowance", "88.80")):
        periods.adjustment_add(
            period=march,
            worker=full,
            kind=kind,
            amount=Decimal(amount),
            reason=f"March {kind}",
            actor=director,
        )
    calculate(march)
    return park, march


def export(park, path) -> dict:
    out = StringIO()
    call_command(
        "export_period", "2026-03", "--park", park.code, "--out", path, stdout=out
    )
    assert "3 payslips written to" in out.getvalue()
    return json.loads(path.read_text(encoding="utf-8"))


def verify(path) -> str:
    out = StringIO()
    try:
        call_command("verify_period", str(path), stdout=out)
    except CommandError as exc:
        raise AssertionError(out.getvalue()) from exc
    return out.getvalue()


def verify_fails(path) -> str:
    out = StringIO()
    with pytest.raises(CommandError, match="verification failed"):
        call_command("verify_period", str(path), stdout=out)
    return out.getvalue()


def rewrite(path, document, *, recompute_checksum: bool) -> None:
    if recompute_checksum:
        document = backup.export_document(document["content"])
    path.write_text(backup.export_dumps(document), encoding="utf-8")


def test_round_trip_recomputes_every_payslip_to_the_fen(
    park_with_march, tmp_path, django_assert_num_queries
):
    """An export holds the payslips and every input used; verify_period finds
    the checksum right and every payslip recomputed from the file alone (no
    database) equal to the fen, and exits 0."""
    park, march = park_with_march
    path = tmp_path / "march.json"
    document = export(park, path)
    content = document["content"]

    assert document["checksum"]["value"] == backup.content_checksum(content)
    assert content["period"] == {
        **content["period"],
        "month": "2026-03",
        "late_work_from": "2026-02",
    }
    slip = Payslip.objects.filter(period=march).order_by("number").first()
    assert content["payslips"][0]["net"] == str(slip.net)  # Decimals as strings
    workers = content["workers"]
    records = [r for w in workers.values() for r in w["records"]]
    assert sum(r["late"] for r in records) == 1
    assert any(w["carried_in"]["from"] == "2026-02" for w in workers.values())
    assert any(w["year_to_date"]["tax"] != "0" for w in workers.values())
    assert any(len(w["skill_periods"]) == 2 for w in workers.values())

    output = verify(path)
    assert "checksum OK" in output
    assert f"OK: {park.code} 2026-03: 3 payslips, 0 mismatches" in output

    with django_assert_num_queries(0):
        result = backup.period_export_verify(document=document)
    assert result.ok and result.payslips == 3


def test_tampered_amount_is_detected_by_the_checksum(park_with_march, tmp_path):
    """A payslip's net raised by one fen in the file: the checksum no longer
    matches, the recomputation disagrees, and verify_period exits non-zero."""
    park, _march = park_with_march
    path = tmp_path / "march.json"
    document = export(park, path)
    slip = document["content"]["payslips"][1]
    slip["net"] = str(Decimal(slip["net"]) + Decimal("0.01"))
    rewrite(path, document, recompute_checksum=False)

    output = verify_fails(path)
    assert "Checksum mismatch" in output
    assert f"MISMATCH {slip['number']} net: stored {slip['net']}" in output


def test_tampered_input_with_a_new_checksum_is_a_fen_mismatch(
    park_with_march, tmp_path
):
    """A record's units changed and the checksum recomputed to hide it: the
    checksum passes, but the payslip recomputed from the changed inputs differs
    to the fen, and verify_period names it and exits non-zero."""
    park, _march = park_with_march
    path = tmp_path / "march.json"
    document = export(park, path)
    content = document["content"]
    employee_no, data = next(
        (no, w) for no, w in content["workers"].items() if w["contract"] == "part_time"
    )
    record = next(r for r in data["records"] if r["accuracy"] == "99.00")
    record["units"] += 1
    rewrite(path, document, recompute_checksum=True)

    output = verify_fails(path)
    assert "checksum OK" in output
    number = next(
        p["number"] for p in content["payslips"] if p["employee_no"] == employee_no
    )
    assert f"MISMATCH {number} piece_pay" in output
    assert f"MISMATCH {number} net" in output
    assert all(
        line.startswith(f"MISMATCH {number} ")
        for line in output.splitlines()
        if line.startswith("MISMATCH")
    )


def test_verify_refuses_a_file_that_is_not_an_export(tmp_path):
    """Not JSON, or JSON of something else: a clear error, exit non-zero."""
    path = tmp_path / "other.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(CommandError, match="Not a ParkPay period export"):
        call_command("verify_period", str(path), stdout=StringIO())
    path.write_text('{"content": {"format": "something"}}', encoding="utf-8")
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("verify_period", str(path), stdout=out)
    assert "Not a ParkPay period export" in out.getvalue()


def test_export_needs_a_calculated_period_of_one_park(park, tmp_path):
    """A period never calculated, a month of several parks without --park, or
    no such period: each a clear error, and no file written."""
    make_worker(park)
    periods.period_get_or_create(park=park, month=MARCH)
    path = tmp_path / "x.json"
    with pytest.raises(CommandError, match="has not been calculated"):
        call_command("export_period", "2026-03", "--out", str(path))
    periods.period_get_or_create(park=make_park(), month=MARCH)
    with pytest.raises(CommandError, match="choose one with --park"):
        call_command("export_period", "2026-03", "--out", str(path))
    with pytest.raises(CommandError, match="no pay period 2026-04"):
        call_command("export_period", "2026-04", "--out", str(path))
    assert not path.exists()
