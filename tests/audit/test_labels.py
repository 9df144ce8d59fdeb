"""The audit page in words: no raw codes or long decimals in what a director
reads, in Chinese or English."""

import re
from datetime import date
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import translation

from audit.labels import action_label, changes_text, object_label, value_text
from audit.services import audit_record
from payroll.models import PayPeriod, RateCard
from payroll.services import rate_card_create
from tests.factories import make_catalogue, make_user

pytestmark = pytest.mark.django_db


def test_codes_become_words_in_both_languages():
    with translation.override("zh-hans"):
        assert action_label("period.approve") == "工资期间 已审批"
        assert action_label("payslip.pdf") == "工资条 已生成 PDF"
        assert object_label("payperiod") == "工资期间"
    with translation.override("en"):
        assert action_label("rate_card.create") == "rate card created"
        assert action_label("worker.password_set") == "worker password set"


def test_values_are_written_as_people_write_them():
    assert value_text("38653.1900000000") == "38653.19"
    assert value_text("0.5000") == "0.50"
    assert value_text("0.1250") == "0.125"
    assert value_text(None) == "—"
    with translation.override("en"):
        assert changes_text({"gross": "10.5000000000"}) == [("gross pay", "10.50")]


def test_keys_and_choice_values_are_the_fields_names_and_choices():
    """A key naming a model field takes the field's name and a value among its
    choices the choice's label, in the reader's language."""
    values = {"status": "calculated", "skill_level": "junior", "task_type": "box"}
    with translation.override("zh-hans"):
        assert changes_text(values) == [
            ("状态", "已计算"),
            ("技能等级", "初级"),
            ("任务类型", "box"),
        ]
    with translation.override("en"):
        assert changes_text({"contract": "full_time"}) == [("contract", "full-time")]


def test_the_audit_page_shows_words_not_codes(park):
    director = make_user("director", park=park)
    project, task_type = make_catalogue(park)
    rate_card_create(
        project=project,
        task_type=task_type,
        skill_level="senior",
        rate=Decimal("1"),
        effective_from=date(2026, 6, 1),
        actor=director,
    )
    period = PayPeriod.objects.create(park=park, month=date(2026, 5, 1))
    audit_record(
        actor=director,
        park=park,
        action="period.calculated",
        obj=period,
        after={"gross": "38653.1900000000", "payslips": 292},
    )
    client = Client()
    client.force_login(director)
    html = client.get("/park/audit/").content.decode()
    text = re.sub(r"<[^>]+>", " ", html)  # what is shown, not the links' addresses
    assert "工资期间 已计算" in text and "单价表 已创建" in text
    for code in ("period.calculated", "rate_card.create", "38653.1900000000"):
        assert code not in text
    assert "38653.19" in text
    assert RateCard.objects.filter(skill_level="senior").exists()
