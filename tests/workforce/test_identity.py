"""R17.1: resident ID numbers and bank accounts: checked, encrypted at rest,
shown masked, audited without their values.

Every number here is fictional: region code 990000 does not exist."""

import io
import json

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.test import override_settings

from audit.models import AuditEvent
from tests.factories import make_park, make_user, make_worker
from workforce.crypto import PersonalDataKeyError
from workforce.identity import ID_BIRTH_YEAR, ID_CHECK_DIGIT, check_digit, mask
from workforce.models import Worker
from workforce.services import worker_set_identity

pytestmark = pytest.mark.django_db


def gb11643(first17: str) -> str:
    """The check character as GB 11643 states it: the sum of each digit times
    2^(17-i) mod 11 (i = 0..16), then (12 - sum mod 11) mod 11, 10 as X."""
    total = sum(int(d) * (2 ** (17 - i) % 11) for i, d in enumerate(first17))
    value = (12 - total % 11) % 11
    return "X" if value == 10 else str(value)


def fake_id(birth="19900101", seq="123") -> str:
    first17 = f"990000{birth}{seq}"
    return first17 + gb11643(first17)


ACCOUNT = "6200000000001234567"


def raw(worker, column):
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {column} FROM workforce_worker WHERE id = %s", [worker.pk]
        )
        return cursor.fetchone()[0]


@pytest.mark.parametrize(
    "first17", ["99000019900101123", "99000020000229001", "99000019751231999"]
)
def test_check_digit_follows_gb11643(first17):
    assert check_digit(first17) == gb11643(first17)


def test_an_x_check_digit_is_accepted():
    """Search a sequence whose check character is X, then store it (lower
    case x is normalised)."""
    seq = next(
        f"{n:03d}" for n in range(1000) if gb11643(f"99000019900101{n:03d}") == "X"
    )
    value = fake_id(seq=seq)
    assert value.endswith("X")
    worker = make_worker(make_park(), birth_year=1990)
    worker_set_identity(worker=worker, actor=None, resident_id=value.lower())
    worker.refresh_from_db()
    assert worker.resident_id == value


WRONG_CHECK = fake_id()[:17] + next(c for c in "0123456789X" if c != fake_id()[17])


@pytest.mark.parametrize(
    "value, code",
    [
        (WRONG_CHECK, "check_digit"),
        ("99000019900101123", "format"),  # 17 characters
        ("9900001990010112A4", "format"),
        (fake_id(birth="19901301"), "birth_date"),  # no 13th month
        (fake_id(birth="19910101"), "birth_year"),  # on record: 1990
    ],
)
def test_invalid_resident_ids_are_refused(value, code):
    worker = make_worker(make_park(), birth_year=1990)
    with pytest.raises(ValidationError) as exc:
        worker_set_identity(worker=worker, actor=None, resident_id=value)
    (error,) = exc.value.error_dict["resident_id"]
    assert error.code == code
    messages = {"check_digit": ID_CHECK_DIGIT, "birth_year": ID_BIRTH_YEAR}
    if code in messages:
        assert error.message == messages[code]
    worker.refresh_from_db()
    assert worker.resident_id == ""


def test_values_are_encrypted_at_rest_and_audited_without_them():
    park = make_park()
    officer = make_user("payroll_officer", park=park)
    worker = make_worker(park, birth_year=1990)
    changed = worker_set_identity(
        worker=worker,
        actor=officer,
        resident_id=fake_id(),
        bank_name="示例银行 (demo)",
        bank_account="6200 0000 0000 1234 567",
        account_holder="测试员",
    )
    assert changed == ["resident_id", "bank_name", "bank_account", "account_holder"]
    for column, plain in (("resident_id", fake_id()), ("bank_account", ACCOUNT)):
        stored = raw(worker, column)
        assert plain not in stored and stored.startswith("gAAAA")
    worker = Worker.objects.get(pk=worker.pk)
    assert (worker.resident_id, worker.bank_account) == (fake_id(), ACCOUNT)
    assert worker.identity_masked()["resident_id"] == "*" * 14 + fake_id()[-4:]
    event = AuditEvent.objects.get(action="worker.identity")
    assert event.actor == officer
    text = json.dumps([event.before, event.after], ensure_ascii=False)
    assert fake_id() not in text and ACCOUNT not in text and "1234" not in text
    assert event.after == {"changed": changed}
    # Setting the same values again changes and audits nothing.
    assert worker_set_identity(worker=worker, actor=officer, bank_account=ACCOUNT) == []
    assert AuditEvent.objects.filter(action="worker.identity").count() == 1


def test_mask_shows_the_last_four_only():
    assert mask(ACCOUNT) == "*" * 15 + "4567"
    assert mask("") == ""


def test_key_rotation_and_reencryption():
    """Rows written under the old key stay readable once a new key is put
    first; after reencrypt_personal_data only the new key is needed."""
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    with override_settings(FIELD_ENCRYPTION_KEYS=old):
        worker = make_worker(make_park(), birth_year=1990)
        worker_set_identity(
            worker=worker, actor=None, resident_id=fake_id(), bank_account=ACCOUNT
        )
    with (
        override_settings(FIELD_ENCRYPTION_KEYS=new),
        pytest.raises(PersonalDataKeyError),
    ):
        Worker.objects.get(pk=worker.pk)
    with override_settings(FIELD_ENCRYPTION_KEYS=f"{new},{old}"):
        assert Worker.objects.get(pk=worker.pk).resident_id == fake_id()
        before = raw(worker, "resident_id")
        call_command("reencrypt_personal_data", stdout=io.StringIO())
        assert raw(worker, "resident_id") != before
    with override_settings(FIELD_ENCRYPTION_KEYS=new):
        again = Worker.objects.get(pk=worker.pk)
        assert (again.resident_id, again.bank_account) == (fake_id(), ACCOUNT)


def test_the_key_file_is_made_once_outside_the_repository(tmp_path, monkeypatch):
    from workforce import crypto

    path = tmp_path / "conf" / "field-keys"
    monkeypatch.setenv("PARKPAY_KEY_FILE", str(path))
    monkeypatch.delenv("FIELD_ENCRYPTION_KEYS", raising=False)
    with override_settings(FIELD_ENCRYPTION_KEYS=None):
        first = crypto.configured_keys()
        assert crypto.configured_keys() == first and len(first) == 1
    assert path.stat().st_mode & 0o777 == 0o600
    assert crypto.decrypt(crypto.encrypt("x")) == "x"


def test_admin_and_api_never_show_the_full_values(client):
    park = make_park()
    officer = make_user("payroll_officer", park=park)
    worker = make_worker(park, birth_year=1990)
    worker_set_identity(
        worker=worker, actor=None, resident_id=fake_id(), bank_account=ACCOUNT
    )
    admin = make_user()
    admin.is_staff = admin.is_superuser = True
    admin.save()
    client.force_login(admin)
    page = client.get(f"/admin/workforce/worker/{worker.pk}/change/").content.decode()
    assert fake_id() not in page and ACCOUNT not in page
    assert fake_id()[-4:] in page

    client.force_login(officer)
    for url in (f"/api/v1/workers/{worker.pk}/", "/api/v1/workers/"):
        body = client.get(url).content.decode()
        assert fake_id() not in body and ACCOUNT not in body
    other = fake_id(seq="456")
    answer = client.put(
        f"/api/v1/workers/{worker.pk}/identity/",
        {"resident_id": other, "account_holder": "测试员"},
        content_type="application/json",
    )
    assert answer.status_code == 200, answer.content
    assert other not in answer.content.decode()
    assert answer.json()["resident_id"] == mask(other)
    assert answer.json()["changed"] == ["resident_id", "account_holder"]
    bad = client.put(
        f"/api/v1/workers/{worker.pk}/identity/",
        {"resident_id": other[:17] + ("0" if other[17] != "0" else "1")},
        content_type="application/json",
    )
    assert bad.status_code == 400
    assert "resident_id" in bad.json()
    worker.refresh_from_db()
    assert worker.resident_id == other


def test_admin_changes_are_audited_without_values_and_empty_keeps(client):
    """Staff enter the data in the admin: a new account number is stored and
    audited as changed; the resident ID left empty keeps the one on record."""
    park = make_park()
    worker = make_worker(park, birth_year=1990)
    worker_set_identity(worker=worker, actor=None, resident_id=fake_id())
    admin = make_user()
    admin.is_staff = admin.is_superuser = True
    admin.save()
    client.force_login(admin)
    url = f"/admin/workforce/worker/{worker.pk}/change/"
    form = client.get(url).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None}
    data.update(
        {
            "park": park.pk,
            "team": worker.team_id,
            "hire_date": worker.hire_date,
            "resident_id": "",
            "bank_account": ACCOUNT,
            **{
                f"{prefix}-{name}": value
                for prefix in ("skills", "special_deductions")
                for name, value in (
                    ("TOTAL_FORMS", "0"),
                    ("INITIAL_FORMS", "0"),
                    ("MIN_NUM_FORMS", "0"),
                    ("MAX_NUM_FORMS", "1000"),
                )
            },
        }
    )
    for name in ("user", "leave_date"):
        data.pop(name, None)
    response = client.post(url, data)
    assert response.status_code == 302, response.content[:3000]
    worker.refresh_from_db()
    assert (worker.resident_id, worker.bank_account) == (fake_id(), ACCOUNT)
    event = AuditEvent.objects.filter(action="worker.change").latest("id")
    assert event.after == {"bank_account": "(changed)"}
    assert ACCOUNT not in json.dumps([event.before, event.after])
