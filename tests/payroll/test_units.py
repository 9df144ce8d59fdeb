"""Units of work in words: a task type's unit code (``box``) is shown in the
reader's language on pages and payslips; a park's own unit stays as written."""

from decimal import Decimal
from types import SimpleNamespace

from django.utils import translation

from payroll.templatetags.parkpay import line_rows
from payroll.units import unit_label


def test_known_units_are_translated_and_others_kept():
    with translation.override("zh-hans"):
        assert unit_label("box") == "框"
        assert unit_label("ticket") == "张工单"
        assert unit_label("Frame") == "帧"
        assert unit_label("bale") == "bale"
    with translation.override("en"):
        assert unit_label("box") == "boxes"


def test_a_payslip_line_counts_in_words_not_codes():
    line = SimpleNamespace(
        kind="piece",
        amount=Decimal("103.65"),
        project="道路图像标注",
        task_type="2D 拉框",
        unit="box",
        quantity=Decimal("691"),
        rate=Decimal("0.15"),
        multiplier=Decimal("1.00"),
        tier="standard",
        period="",
        reason="",
    )
    with translation.override("zh-hans"):
        (row,) = line_rows([line])
    assert row[2] == "691 框"
