"""R17.3: certificates of income over paid months, their PDF (read back with
pypdf, its QR code decoded with zxing-cpp) and the public verification page.

The months are April to July 2025, past months, so the tests hold at any
instant: May and June are paid, July is approved but not paid, April has no
payslip. Identity numbers are fictional (region code 990000 does not exist).
"""

import io
import re
from datetime import date
from decimal import Decimal as D

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from pypdf import PdfReader

from audit.models import AuditEvent
from payroll import certificates, periods
from payroll.certificate_pdf import QR_BORDER, QR_SIZE, qr_matrix
from payroll.models import IncomeCertificate, Payslip
from payroll.pdf import MARGIN, PAGE_WIDTH, money
from tests.factories import calculate, make_park, make_user, make_worker
from tests.workforce.test_identity import fake_id
from workforce.services import worker_set_identity

pytestmark = pytest.mark.django_db

MAY, JUNE, JULY = date(2025, 5, 1), date(2025, 6, 1), date(2025, 7, 1)
RESIDENT_ID = fake_id(seq="417")
ACCOUNT = "6200000000000417"


@pytest.fixture
def world():
    """A park with a director, an officer, and two workers with logins:
    王小明 earns 8,123.45 in May, 9,876.54 in June and 7,000 in July; 李四
    5,000 each month. May and June are paid; July is only approved."""
    park = make_park()
    director = make_user("director", park=park)
    officer = make_user("payroll_officer", park=park)
    ming = make_worker(
        park, name="王小明", hire_date=date(2024, 3, 1), with_login=True, insured=True
    )
    worker_set_identity(
        worker=ming,
        actor=None,
        resident_id=RESIDENT_ID,
        bank_name="示例银行 (demo)",
        bank_account=ACCOUNT,
        account_holder="王小明",
    )
    other = make_worker(park, name="李四", hire_date=date(2024, 3, 1), with_login=True)
    pay = {
        MAY: ("8123.45", "5000.00"),
        JUNE: ("9876.54", "5000.00"),
        JULY: ("7000.00", "5000.00"),
    }
    for month, amounts in pay.items():
        period = periods.period_get_or_create(park=park, month=month)
        for worker, amount in zip((ming, other), amounts, strict=True):
            periods.adjustment_add(
                period=period,
                worker=worker,
                kind="bonus",
                amount=D(amount),
                reason="salary",
                actor=officer,
            )
        calculate(period, actor=officer)
        period = periods.period_approve(period=period, actor=director)
        if month != JULY:
            periods.period_mark_paid(period=period, actor=officer)
    return park, director, officer, ming, other


def slips(worker):
    return {
        s.period.month: s
        for s in Payslip.objects.filter(worker=worker).select_related("period")
    }


def issue(worker, start=MAY, end=JUNE, actor="self"):
    return certificates.certificate_issue(
        worker=worker,
        span_start=start,
        span_end=end,
        actor=worker.user if actor == "self" else actor,
    )


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_certificate_verifies_with_the_payslips_figures(world):
    park, _d, _o, ming, _other = world
    cert = issue(ming)
    paid = slips(ming)
    assert [m["month"] for m in cert.months] == ["2025-05", "2025-06"]
    for entry, month in zip(cert.months, (MAY, JUNE), strict=True):
        assert D(entry["gross"]) == paid[month].taxable
        assert D(entry["net"]) == paid[month].net
        assert entry["payslip"] == paid[month].number
    assert cert.total_gross == paid[MAY].taxable + paid[JUNE].taxable
    assert cert.total_net == paid[MAY].net + paid[JUNE].net
    assert len(cert.code) == 26 and re.fullmatch(r"[A-Z2-7]+", cert.code)

    result = certificates.certificate_verify(cert.code)
    assert result.status == certificates.Status.VALID
    assert result.masked_name == "王*明"
    assert result.park == park.name
    assert (result.span_start, result.span_end) == (MAY, JUNE)
    assert result.total_net == cert.total_net
    # As typed from the paper: in groups, lower case.
    typed = certificates.grouped_code(cert.code).lower()
    assert certificates.certificate_verify(typed).status == certificates.Status.VALID

    event = AuditEvent.objects.get(action="certificate.issue")
    assert event.actor == ming.user and event.object_id == str(cert.pk)
    assert event.after["months"] == 2 and event.after["total_net"] == str(
        cert.total_net
    )


def test_codes_are_random_and_unique(world):
    _p, _d, officer, ming, _other = world
    codes = {issue(ming, actor=officer).code for _ in range(5)}
    assert len(codes) == 5


@pytest.mark.parametrize(
    "change",
    [
        {"total_net": D("99999.00")},
        {"total_gross": D("1.00")},
        {"holder_name": "王大明"},
        {"span_start": date(2025, 4, 1)},
        {"months": [{"month": "2025-05", "payslip": "x", "gross": "1", "net": "1"}]},
        {"park_name": "Another park"},
    ],
    ids=lambda change: next(iter(change)),
)
def test_a_changed_record_does_not_verify(world, change):
    """Figures edited in the database after issue no longer match the
    signature: the page says not valid."""
    _p, _d, _o, ming, _other = world
    cert = issue(ming)
    IncomeCertificate.objects.filter(pk=cert.pk).update(**change)
    assert certificates.certificate_verify(cert.code) == certificates.INVALID


def test_a_tampered_or_unknown_code_does_not_verify(world):
    _p, _d, _o, ming, _other = world
    cert = issue(ming)
    flipped = cert.code[:-1] + ("A" if cert.code[-1] != "A" else "B")
    for code in (flipped, cert.code[:-1], cert.code + "A", "", "x" * 26, None):
        assert certificates.certificate_verify(code) == certificates.INVALID


def test_a_revoked_certificate_does_not_verify(world):
    _p, director, _o, ming, _other = world
    cert = issue(ming)
    with pytest.raises(ValidationError):
        certificates.certificate_revoke(certificate=cert, actor=director, reason=" ")
    with pytest.raises(PermissionDenied):
        certificates.certificate_revoke(
            certificate=cert, actor=ming.user, reason="mine"
        )
    certificates.certificate_revoke(
        certificate=cert, actor=director, reason="issued in error"
    )
    result = certificates.certificate_verify(cert.code)
    assert result.status == certificates.Status.REVOKED
    assert result.total_net is None and result.masked_name == ""
    event = AuditEvent.objects.get(action="certificate.revoke")
    assert event.actor == director and event.after == {"reason": "issued in error"}
    page = Client().get(f"/verify/{cert.code}/").content.decode()
    assert "已撤销" in page and money(cert.total_net) not in page
    # The revoked certificate's PDF is no longer handed out.
    assert login(ming.user).get(f"/certificates/{cert.pk}/pdf/").status_code == 404


def test_the_verification_page_reveals_nothing_else(world):
    """Anonymous: valid, the park, the span, the totals and the masked name;
    not the full name, the employee number, the ID or account number, the
    monthly figures, the payslip numbers, nor another certificate."""
    park, _d, officer, ming, other = world
    cert = issue(ming)
    theirs = issue(other, actor=officer)
    response = Client().get(f"/verify/{cert.code}/")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    page = response.content.decode()
    assert "有效" in page and "王*明" in page and park.name in page
    assert "2025-05" in page and "2025-06" in page
    assert money(cert.total_net) in page and money(cert.total_gross) in page
    paid = slips(ming)
    forbidden = [
        "王小明",
        ming.employee_no,
        RESIDENT_ID,
        RESIDENT_ID[-4:],
        ACCOUNT,
        ACCOUNT[-4:],
        *(money(paid[m].net) for m in (MAY, JUNE)),
        *(money(paid[m].taxable) for m in (MAY, JUNE)),
        *(paid[m].number for m in (MAY, JUNE)),
        "李四",
        other.employee_no,
        theirs.code,
        money(theirs.total_net),
    ]
    for text in forbidden:
        assert text not in page, text
    # The typed form answers the same; an unknown code says only "not valid".
    typed = Client().get("/verify/", {"code": certificates.grouped_code(cert.code)})
    assert "王*明" in typed.content.decode()
    unknown = Client().get("/verify/", {"code": "A" * 26}).content.decode()
    assert "无效" in unknown and park.name not in unknown and "王*明" not in unknown


def test_the_verification_page_is_rate_limited(world, settings):
    _p, _d, _o, ming, _other = world
    cert = issue(ming)
    client = Client()
    from payroll.certificate_views import VERIFY_LIMIT

    for _ in range(VERIFY_LIMIT):
        assert client.get("/verify/", {"code": "A" * 26}).status_code == 200
    response = client.get(f"/verify/{cert.code}/")
    assert response.status_code == 429 and "王*明" not in response.content.decode()


@pytest.mark.parametrize(
    ("start", "end", "month"),
    [(MAY, JULY, "2025-07"), (date(2025, 4, 1), JUNE, "2025-04")],
    ids=["approved-not-paid", "no-payslip"],
)
def test_only_paid_months_can_be_covered(world, start, end, month):
    _p, _d, officer, ming, _other = world
    with pytest.raises(ValidationError) as caught:
        issue(ming, start, end, actor=officer)
    assert month in str(caught.value)
    # From the worker's page: the error is shown, nothing is recorded.
    response = login(ming.user).post(
        "/me/certificates/",
        {"span_start": f"{start:%Y-%m}", "span_end": f"{end:%Y-%m}"},
    )
    assert response.status_code == 200
    assert not IncomeCertificate.objects.exists()
    assert not AuditEvent.objects.filter(action="certificate.issue").exists()


def test_a_span_must_be_in_order_and_bounded(world):
    _p, _d, officer, ming, _other = world
    with pytest.raises(ValidationError):
        issue(ming, JUNE, MAY, actor=officer)
    with pytest.raises(ValidationError):
        issue(ming, date(2023, 1, 1), JUNE, actor=officer)


def test_a_worker_cannot_issue_for_another_worker(world):
    _park, _director, _o, ming, other = world
    with pytest.raises(PermissionDenied):
        issue(other, actor=ming.user)
    client = login(ming.user)
    form = {"employee_no": other.employee_no, "span_start": "2025-05"}
    form["span_end"] = "2025-06"
    assert client.post("/park/certificates/", form).status_code == 404
    assert not IncomeCertificate.objects.exists()
    theirs = issue(other)
    assert client.get(f"/certificates/{theirs.pk}/pdf/").status_code == 404
    assert client.post(f"/park/certificates/{theirs.pk}/revoke/").status_code == 404
    # Another park's director neither.
    stranger = make_user("director", park=make_park())
    assert login(stranger).get(f"/certificates/{theirs.pk}/pdf/").status_code == 404
    response = login(stranger).post("/park/certificates/", form)
    assert response.status_code == 200 and IncomeCertificate.objects.count() == 1
    with pytest.raises(PermissionDenied):
        issue(other, actor=stranger)


def test_staff_issue_and_revoke_from_their_page(world):
    _park, director, officer, ming, _other = world
    client = login(officer)
    response = client.post(
        "/park/certificates/",
        {
            "employee_no": ming.employee_no,
            "span_start": "2025-05",
            "span_end": "2025-06",
        },
    )
    assert response.status_code == 302
    cert = IncomeCertificate.objects.get()
    assert cert.issued_by == officer and cert.worker == ming
    page = client.get("/park/certificates/").content.decode()
    assert ming.employee_no in page and f"/certificates/{cert.pk}/pdf/" in page
    response = login(director).post(
        f"/park/certificates/{cert.pk}/revoke/", {"reason": "wrong span"}
    )
    assert response.status_code == 302
    cert.refresh_from_db()
    assert cert.revoked_by == director and cert.revoke_reason == "wrong span"


def test_the_worker_issues_and_downloads_her_own(world):
    _p, _d, _o, ming, _other = world
    client = login(ming.user)
    page = client.get("/me/certificates/").content.decode()
    # Her paid months only are offered; July is not paid.
    assert 'value="2025-05"' in page and 'value="2025-07"' not in page
    response = client.post(
        "/me/certificates/", {"span_start": "2025-05", "span_end": "2025-06"}
    )
    assert response.status_code == 302
    cert = IncomeCertificate.objects.get()
    assert cert.issued_by == ming.user
    page = client.get("/me/certificates/").content.decode()
    assert f"/certificates/{cert.pk}/pdf/" in page
    assert RESIDENT_ID not in page and ACCOUNT not in page
    response = client.get(f"/certificates/{cert.pk}/pdf/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"


def _pdf(world, cert):
    _p, _d, officer, _ming, _other = world
    response = login(officer).get(f"/certificates/{cert.pk}/pdf/")
    assert response.status_code == 200
    return response.content


def test_the_pdf_states_the_payslips_figures_to_the_fen(world):
    park, _d, _o, ming, _other = world
    cert = issue(ming)
    data = _pdf(world, cert)
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    paid = slips(ming)
    for month in (MAY, JUNE):
        slip = paid[month]
        line = next(line for line in text.splitlines() if slip.number in line)
        figures = re.findall(r"-?[\d,]+\.\d\d", line)
        assert figures[-2:] == [money(slip.taxable), money(slip.net)], line
    total_line = next(line for line in text.splitlines() if "合计 Total" in line)
    assert re.findall(r"[\d,]+\.\d\d", total_line) == [
        money(paid[MAY].taxable + paid[JUNE].taxable),
        money(paid[MAY].net + paid[JUNE].net),
    ]
    assert "2025年7月" not in text  # the unpaid month is not listed
    assert "收入证明" in text and "Certificate of Income" in text
    assert "王小明" in text and park.name in text and "2024-03-01" in text
    assert certificates.grouped_code(cert.code) in text
    assert f"http://testserver/verify/{cert.code}/" in text.replace("\n", "")
    # The resident ID number only masked, the account not at all.
    assert RESIDENT_ID not in text and RESIDENT_ID[-4:] in text
    assert ACCOUNT not in text


def _qr_image(data: bytes):
    """The QR code as the PDF draws it: its filled rectangles (``re f``) in
    the QR's square, painted onto a bitmap."""
    from PIL import Image, ImageDraw

    page = PdfReader(io.BytesIO(data)).pages[0]
    content = page.get_contents().get_data().decode("latin-1")
    left = PAGE_WIDTH - MARGIN - QR_SIZE
    rects = [
        tuple(float(v) for v in m.groups())
        for m in re.finditer(
            r"(-?[\d.]+) (-?[\d.]+) (-?[\d.]+) (-?[\d.]+) re f", content
        )
    ]
    square = [
        r for r in rects if abs(r[2] - QR_SIZE) < 0.01 and abs(r[0] - left) < 0.01
    ]
    assert len(square) == 1, "the QR code's white square"
    x0, y0 = square[0][0], square[0][1]
    modules = [
        r
        for r in rects
        if x0 <= r[0] < x0 + QR_SIZE and y0 <= r[1] < y0 + QR_SIZE and r != square[0]
    ]
    scale = 4
    image = Image.new("L", (int(QR_SIZE * scale), int(QR_SIZE * scale)), 255)
    draw = ImageDraw.Draw(image)
    for x, y, w, h in modules:
        top = (y0 + QR_SIZE - (y + h)) * scale
        draw.rectangle(
            [(x - x0) * scale, top, (x - x0 + w) * scale - 1, top + h * scale - 1],
            fill=0,
        )
    return image


def test_the_qr_code_holds_the_verification_address(world):
    """The QR code drawn in the PDF decodes (zxing-cpp) to the public
    verification page of this certificate, which answers valid."""
    zxingcpp = pytest.importorskip("zxingcpp")
    _p, _d, _o, ming, _other = world
    cert = issue(ming)
    image = _qr_image(_pdf(world, cert))
    found = zxingcpp.read_barcodes(image)
    assert [b.text for b in found] == [f"http://testserver/verify/{cert.code}/"]
    page = Client().get(found[0].text.removeprefix("http://testserver")).content
    assert "王*明" in page.decode()
    # The drawing has the quiet zone the standard asks for.
    assert QR_BORDER >= 4 and len(qr_matrix(found[0].text)) >= 21


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("王小明", "王*明"),
        ("李明", "李*"),
        ("欧阳小明", "欧**明"),
        ("王", "*"),
        ("", "*"),
    ],
)
def test_names_are_masked(name, masked):
    assert certificates.mask_name(name) == masked


def test_the_park_page_costs_the_same_queries_for_more_certificates(world):
    """No query per certificate on the staff list."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _p, director, officer, ming, other = world
    client = login(officer)

    def cost():
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/park/certificates/").status_code == 200
        return len(queries)

    issue(ming)
    few = cost()
    for worker in (ming, other, other):
        cert = issue(worker, actor=officer)
    certificates.certificate_revoke(certificate=cert, actor=director, reason="x")
    assert cost() == few
