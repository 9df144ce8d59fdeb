"""R17.1: a worker enters her resident ID number and bank account on her
profile page; the park's director or payroll officer confirms or rejects it.
Pending entries are encrypted, checked like the worker's own fields, never
shown in full, never used by the exports before confirmation, and audited
without their values.

Every number here is fictional: region code 990000 does not exist."""

import io
import json

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.db import connection
from django.test import Client, override_settings

from audit.models import AuditEvent
from payroll import exports
from tests.factories import make_park, make_user, make_worker
from tests.payroll.test_exports import approved  # noqa: F401
from tests.workforce.test_identity import fake_id
from workforce.identity_changes import (
    identity_change_confirm,
    identity_change_reject,
    identity_change_submit,
)
from workforce.models import IdentityChange, IdentityChangeStatus, Worker

pytestmark = pytest.mark.django_db

NEW_ID = fake_id(birth="19900315", seq="731")
NEW_ACCOUNT = "6299000000007319"


@pytest.fixture
def people():
    park = make_park()
    director = make_user("director", park=park)
    officer = make_user("payroll_officer", park=park)
    worker = make_worker(park, birth_year=1990, with_login=True, name="周敏")
    return park, director, officer, worker


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def entry(**values):
    base = {
        "resident_id": NEW_ID,
        "bank_name": "示例银行 (demo)",
        "bank_account": NEW_ACCOUNT,
        "account_holder": "周敏",
    }
    return {**base, **values}


def assert_private(text: str):
    assert NEW_ID not in text and NEW_ACCOUNT not in text


def test_the_worker_enters_it_and_the_officer_confirms(people):
    _park, _d, officer, worker = people
    client = login(worker.user)
    bodies = []
    response = client.post("/me/profile/", entry(), follow=True)
    bodies.append(response.content.decode())
    change = IdentityChange.objects.get()
    assert change.status == IdentityChangeStatus.PENDING
    assert change.resident_id == NEW_ID and change.bank_account == NEW_ACCOUNT
    worker.refresh_from_db()
    assert worker.resident_id == "" and worker.bank_account == ""  # not yet
    assert NEW_ID[-4:] in bodies[0] and NEW_ACCOUNT[-4:] in bodies[0]

    staff = login(officer)
    page = staff.get("/park/identity-changes/")
    bodies.append(page.content.decode())
    assert worker.employee_no in bodies[-1] and NEW_ID[-4:] in bodies[-1]
    response = staff.post(f"/park/identity-changes/{change.pk}/confirm/", follow=True)
    bodies.append(response.content.decode())
    worker.refresh_from_db()
    assert (worker.resident_id, worker.bank_account) == (NEW_ID, NEW_ACCOUNT)
    assert worker.bank_name == "示例银行 (demo)" and worker.account_holder == "周敏"
    change.refresh_from_db()
    assert change.status == IdentityChangeStatus.CONFIRMED
    assert change.decided_by == officer
    bodies.append(client.get("/me/profile/").content.decode())
    for body in bodies:
        assert_private(body)
    actions = list(
        AuditEvent.objects.order_by("id").values_list("action", "after", "before")
    )
    assert [a for a, *_ in actions if a.startswith(("identity", "worker.id"))] == [
        "identity_change.submit",
        "worker.identity",
        "identity_change.confirm",
    ]
    dumped = json.dumps([list(a) for a in actions], ensure_ascii=False)
    assert_private(dumped)
    assert NEW_ID[-4:] not in dumped


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"resident_id": NEW_ID[:-1] + ("0" if NEW_ID[-1] != "0" else "1")}, "ID"),
        ({"resident_id": fake_id(birth="19850315", seq="731")}, "1990"),
        ({"bank_account": "12ab"}, "8 to 30"),
    ],
    ids=["check digit", "birth year", "account"],
)
def test_a_wrong_entry_is_refused_and_not_echoed(people, values, field):
    _park, _d, _o, worker = people
    typed = entry(**values)
    client = login(worker.user)
    client.cookies["django_language"] = "en"
    response = client.post("/me/profile/", typed)
    assert response.status_code == 400
    body = response.content.decode()
    assert field in body
    for name in ("resident_id", "bank_account"):
        assert typed[name] not in body
    assert not IdentityChange.objects.exists()
    with pytest.raises(ValidationError):
        identity_change_submit(worker=worker, actor=worker.user, **typed)


def test_an_empty_entry_is_refused(people):
    _park, _d, _o, worker = people
    with pytest.raises(ValidationError):
        identity_change_submit(
            worker=worker, actor=worker.user, resident_id=" ", bank_account=""
        )


def test_a_new_entry_replaces_the_waiting_one(people):
    _park, _d, _o, worker = people
    first = identity_change_submit(worker=worker, actor=worker.user, **entry())
    second = identity_change_submit(
        worker=worker, actor=worker.user, bank_account="6299000000000001"
    )
    first.refresh_from_db()
    assert first.status == IdentityChangeStatus.REPLACED
    assert second.status == IdentityChangeStatus.PENDING


def test_rejected_with_a_reason_changes_nothing(people):
    _park, director, _o, worker = people
    change = identity_change_submit(worker=worker, actor=worker.user, **entry())
    with pytest.raises(ValidationError):
        identity_change_reject(change=change, actor=director, reason="")
    response = login(director).post(
        f"/park/identity-changes/{change.pk}/reject/",
        {"reason": "不是本人的银行卡"},
    )
    assert response.status_code == 302
    worker.refresh_from_db()
    assert worker.resident_id == "" and worker.bank_account == ""
    change.refresh_from_db()
    assert change.status == IdentityChangeStatus.REJECTED
    page = login(worker.user).get("/me/profile/").content.decode()
    assert "不是本人的银行卡" in page
    with pytest.raises(ValidationError):
        identity_change_confirm(change=change, actor=director)


def test_only_the_parks_pay_staff_decide(people):
    _park, _d, _o, worker = people
    other = make_worker(worker.park, with_login=True)
    change = identity_change_submit(worker=worker, actor=worker.user, **entry())
    with pytest.raises(PermissionDenied):
        identity_change_submit(worker=other, actor=worker.user, **entry())
    stranger = make_user("director", park=make_park())
    trainer = make_user("trainer", park=worker.park)
    for user in (worker.user, other.user, stranger, trainer):
        client = login(user)
        url = f"/park/identity-changes/{change.pk}/confirm/"
        assert client.post(url).status_code == 404, user
    with pytest.raises(PermissionDenied):
        identity_change_confirm(change=change, actor=stranger)
    assert login(stranger).get("/park/identity-changes/").status_code == 200
    assert (
        worker.employee_no
        not in login(stranger).get("/park/identity-changes/").content.decode()
    )
    change.refresh_from_db()
    assert change.status == IdentityChangeStatus.PENDING


def test_the_exports_use_only_confirmed_data(approved):  # noqa: F811
    """The worker's new account waits; the bank file keeps paying the old
    one until it is confirmed."""
    period, officer, people = approved
    a = people["A"]
    old = a.bank_account
    a.user = make_user("worker")
    Worker.objects.filter(pk=a.pk).update(user=a.user)
    change = identity_change_submit(worker=a, actor=a.user, bank_account=NEW_ACCOUNT)

    def accounts():
        built = exports.period_export_build(period=period, kind="bank")
        return [row[2] for row in built.rows]

    assert old in accounts() and NEW_ACCOUNT not in accounts()
    identity_change_confirm(change=change, actor=officer)
    assert NEW_ACCOUNT in accounts() and old not in accounts()


def raw(change, column):
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {column} FROM workforce_identitychange WHERE id = %s",
            [change.pk],
        )
        return cursor.fetchone()[0]


def test_entries_are_encrypted_and_re_encrypted(people):
    _park, _d, _o, worker = people
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    with override_settings(FIELD_ENCRYPTION_KEYS=old):
        change = identity_change_submit(worker=worker, actor=worker.user, **entry())
        assert NEW_ID not in raw(change, "resident_id")
        assert NEW_ACCOUNT not in raw(change, "bank_account")
    with override_settings(FIELD_ENCRYPTION_KEYS=f"{new},{old}"):
        before = raw(change, "resident_id")
        call_command("reencrypt_personal_data", stdout=io.StringIO())
        assert raw(change, "resident_id") != before
    with override_settings(FIELD_ENCRYPTION_KEYS=new):
        assert IdentityChange.objects.get(pk=change.pk).resident_id == NEW_ID


def test_an_id_typed_in_groups_is_accepted(people):
    _park, _d, _o, worker = people
    spaced = f"{NEW_ID[:6]} {NEW_ID[6:14]} {NEW_ID[14:]}".lower()
    response = login(worker.user).post("/me/profile/", {"resident_id": spaced})
    assert response.status_code == 302
    assert IdentityChange.objects.get().resident_id == NEW_ID
