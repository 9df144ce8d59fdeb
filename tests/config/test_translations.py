"""The Simplified Chinese catalog: complete, well-formed, compiled, and in use."""

import gettext
import re
from collections import Counter
from pathlib import Path

import polib
import pytest
from django.test import Client

from tests.factories import make_park, make_user, make_worker

LOCALE = Path(__file__).resolve().parents[2] / "locale" / "zh_Hans" / "LC_MESSAGES"
PO = LOCALE / "django.po"
MO = LOCALE / "django.mo"

# A Python %-directive as msgfmt reads one (named or not, with flags, width,
# precision and length), "%%" included; then str.format fields and HTML tags.
PERCENT = re.compile(
    r"%(?:\([^)]*\))?[#0\- +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?[diouxXeEfFgGcrsa%]"
)
BRACES = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")
TAGS = re.compile(r"</?[A-Za-z][^<>]*>")


def placeholders(text: str) -> Counter:
    return Counter([*PERCENT.findall(text), *BRACES.findall(text), *TAGS.findall(text)])


@pytest.fixture(scope="module")
def catalog() -> polib.POFile:
    return polib.pofile(str(PO))


def entries(catalog: polib.POFile) -> list[polib.POEntry]:
    return [e for e in catalog if not e.obsolete]


def test_header_declares_chinese_with_one_plural_form(catalog):
    assert not catalog.metadata_is_fuzzy
    assert catalog.metadata["Language"] == "zh_Hans"
    assert catalog.metadata["Plural-Forms"].replace(" ", "") == "nplurals=1;plural=0;"
    assert "charset=UTF-8" in catalog.metadata["Content-Type"]


def test_every_entry_is_translated_and_not_fuzzy(catalog):
    assert len(entries(catalog)) > 400
    untranslated = [e.msgid for e in entries(catalog) if not e.translated()]
    fuzzy = [e.msgid for e in entries(catalog) if "fuzzy" in e.flags]
    assert untranslated == []
    assert fuzzy == []


def test_plural_entries_have_exactly_one_form(catalog):
    plurals = [e for e in entries(catalog) if e.msgid_plural]
    assert plurals
    for entry in plurals:
        assert set(entry.msgstr_plural) == {0}, entry.msgid
        assert entry.msgstr_plural[0].strip(), entry.msgid


def test_placeholders_and_markup_are_kept(catalog):
    wrong = []
    for entry in entries(catalog):
        forms = entry.msgstr_plural.values() if entry.msgid_plural else [entry.msgstr]
        for msgstr in forms:
            # With one plural form, msgstr[0] serves the singular and the plural;
            # the two English forms carry the same placeholders here.
            if placeholders(entry.msgid) != placeholders(msgstr):
                wrong.append((entry.msgid, msgstr))
    assert wrong == []


def test_translations_are_chinese(catalog):
    """A msgstr left in English is a missed translation, bar names and symbols."""
    same = {"Label Studio", "CVAT", "M"}
    han = re.compile(r"[\u4e00-\u9fff]")
    english = [
        e.msgid
        for e in entries(catalog)
        if not e.msgid_plural and e.msgid not in same and not han.search(e.msgstr)
    ]
    assert english == []


def test_committed_mo_matches_the_po(tmp_path, catalog):
    """The .mo in the repository holds exactly what the .po compiles to."""
    assert MO.exists(), "run: manage.py compilemessages -l zh_Hans"
    fresh = tmp_path / "django.mo"
    catalog.save_as_mofile(str(fresh))
    with MO.open("rb") as committed, fresh.open("rb") as compiled:
        have = gettext.GNUTranslations(committed)
        want = gettext.GNUTranslations(compiled)
    have_messages = {k: v for k, v in have._catalog.items() if k != ""}
    want_messages = {k: v for k, v in want._catalog.items() if k != ""}
    stale = sorted(
        str(k) for k in want_messages.keys() ^ have_messages.keys()
    ) + sorted(
        str(k)
        for k in want_messages.keys() & have_messages.keys()
        if want_messages[k] != have_messages[k]
    )
    assert stale == [], "the .mo is stale: run manage.py compilemessages -l zh_Hans"
    assert have.ngettext("%(n)s payslip", "%(n)s payslips", 5) == want.ngettext(
        "%(n)s payslip", "%(n)s payslips", 5
    )


@pytest.mark.django_db
def test_worker_page_is_in_chinese(catalog):
    park = make_park()
    user = make_user("worker")
    make_worker(park, user=user)
    client = Client()
    client.force_login(user)
    page = client.get("/me/").content.decode()
    assert '<html lang="zh-hans">' in page
    estimate = catalog.find("estimate until approved").msgstr
    net_pay = catalog.find("net pay").msgstr
    assert "估算" in estimate
    assert "实发" in net_pay
    for chinese in (estimate, net_pay, "上班打卡", "计件工资", "我的收入"):
        assert chinese in page
    for english in ("estimate until approved", "net pay", "Clock in", "My earnings"):
        assert english not in page
