"""R17.2: each park's bank batch payment file in the column layout its
director chose; the figures, count and total stay those of the payslips.

Uses the approved June 2025 of ``test_exports`` (three workers, two paid)."""

import csv
import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from audit.models import AuditEvent
from payroll import exports
from payroll.models import ParkPaymentSettings, Payslip
from payroll.services import bank_layout_of, bank_layout_set
from tests.factories import make_park, make_user
from tests.payroll.test_exports import approved, fen, rows  # noqa: F401

pytestmark = pytest.mark.django_db


def director_of(period):
    return make_user("director", park=period.park)


def paid(period, people):
    slips = {s.worker_id: s for s in Payslip.objects.filter(period=period)}
    return [(w, slips[w.id]) for w in people.values() if slips[w.id].net > 0]


def test_the_standard_layout_is_the_default(approved):  # noqa: F811
    period, officer, _people = approved
    assert bank_layout_of(period.park).code == "standard"
    _n, content, _t = exports.period_export(
        period=period, kind="bank", fmt="xlsx", actor=officer
    )
    assert rows(content)[0] == ["序号", "账户名", "账号", "开户银行", "金额", "备注"]


def test_amounts_in_fen_change_headers_order_and_units_not_figures(approved):  # noqa: F811
    period, officer, people = approved
    bank_layout_set(park=period.park, layout="fen", actor=director_of(period))
    _n, content, _t = exports.period_export(
        period=period, kind="bank", fmt="xlsx", actor=officer
    )
    got = rows(content)
    assert got[0] == ["收款人账号", "收款人户名", "金额(分)", "附言"]
    body, summary = got[1:-1], got[-1]
    expected = paid(period, people)
    assert len(body) == len(expected) == 2
    for row, (worker, slip) in zip(body, expected, strict=True):
        assert row[:2] == [worker.bank_account, worker.account_holder]
        assert row[2] == int(slip.net * 100) and isinstance(row[2], int)
        assert row[3].endswith(slip.number)
    total = sum(slip.net for _w, slip in expected)
    assert summary[0] == "合计" and summary[1] == "2 笔"
    assert summary[2] == int(total * 100)
    event = AuditEvent.objects.filter(action="period.export.bank").latest("id")
    assert event.after["rows"] == 2 and event.after["total"] == str(total)


def test_account_first_puts_count_and_total_above_the_headers(approved):  # noqa: F811
    period, officer, people = approved
    bank_layout_set(park=period.park, layout="account_first", actor=director_of(period))
    expected = paid(period, people)
    total = sum(slip.net for _w, slip in expected)
    for fmt in ("xlsx", "csv"):
        _n, content, _t = exports.period_export(
            period=period, kind="bank", fmt=fmt, actor=officer
        )
        if fmt == "xlsx":
            got = rows(content)
        else:
            got = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
        assert got[0][0] == "总笔数" and int(got[0][1]) == 2
        assert got[0][2] == "总金额" and fen(got[0][3]) == total
        assert got[1] == ["账号", "户名", "金额", "开户行", "用途"]
        assert len(got) == 2 + len(expected)
        for row, (worker, slip) in zip(got[2:], expected, strict=True):
            assert [row[0], row[1]] == [worker.bank_account, worker.account_holder]
            assert fen(row[2]) == slip.net


def test_the_layout_is_per_park(approved):  # noqa: F811
    period, _officer, _people = approved
    other = make_park()
    bank_layout_set(park=period.park, layout="fen", actor=director_of(period))
    assert bank_layout_of(period.park).code == "fen"
    assert bank_layout_of(other).code == "standard"


def test_only_the_director_chooses_from_the_page(approved):  # noqa: F811
    period, officer, _people = approved
    with pytest.raises(PermissionDenied):
        bank_layout_set(park=period.park, layout="fen", actor=officer)
    director = director_of(period)
    with pytest.raises(ValidationError):
        bank_layout_set(park=period.park, layout="nonsense", actor=director)
    client = Client()
    client.force_login(officer)
    assert client.post("/park/bank-layout/", {"layout": "fen"}).status_code == 404
    client.force_login(director)
    response = client.post("/park/bank-layout/", {"layout": "nonsense"})
    assert response.status_code == 400
    assert not ParkPaymentSettings.objects.exists()
    page = client.get("/park/bank-layout/").content.decode()
    assert "收款人账号" in page and 'value="standard" checked' in page
    response = client.post("/park/bank-layout/", {"layout": "fen"})
    assert response.status_code == 302
    assert bank_layout_of(period.park).code == "fen"
    event = AuditEvent.objects.get(action="park.bank_layout")
    assert event.actor == director and event.before == {"bank_layout": "standard"}
    assert event.after == {"bank_layout": "fen"}
