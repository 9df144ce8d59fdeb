"""API keys are kept hashed: the key is shown once, the database and the admin
hold only a prefix and a hash, and the header clients use keeps working."""

import hashlib
import importlib
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient

from payroll.integrations import api_key_create, integration_create
from payroll.models import ApiKey
from tests.factories import make_park, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def director(park):
    return make_user("director", park=park)


def test_key_is_stored_only_as_a_hash(park, director):
    """The created key is in no column of the database: only its first eight
    characters (to recognise it) and its SHA-256."""
    user, key = integration_create(park=park, name="QA", actor=director)
    stored = ApiKey.objects.get(user=user)
    assert stored.prefix == key[:8]
    assert stored.hashed_key == hashlib.sha256(key.encode()).hexdigest()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {ApiKey._meta.db_table}")
        assert not any(key in str(value) for row in cursor.fetchall() for value in row)


def test_key_authenticates_with_the_token_header_and_records_last_use(park, director):
    """``Authorization: Token <key>`` still works; a wrong key is 401."""
    user, key = integration_create(park=park, name="QA", actor=director)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/v1/workers/").status_code == 403  # import only
    assert ApiKey.objects.get(user=user).last_used_at is not None
    client.credentials(HTTP_AUTHORIZATION=f"Token {key[:-1]}x")
    assert client.get("/api/v1/workers/").status_code == 401


def test_revoked_key_is_refused(park, director):
    user, key = integration_create(park=park, name="QA", actor=director)
    ApiKey.objects.filter(user=user).update(revoked_at="2026-01-01T00:00:00Z")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/v1/workers/").status_code == 401


def test_admin_shows_prefix_never_the_key(park, director):
    """The admin lists prefix, created, last used and revoked; neither the key
    nor its hash; no key is added there."""
    user, key = integration_create(park=park, name="QA", actor=director)
    stored = ApiKey.objects.get(user=user)
    superuser = make_user()
    superuser.is_superuser = superuser.is_staff = True
    superuser.save()
    admin = Client()
    admin.force_login(superuser)
    listing = admin.get("/admin/payroll/apikey/")
    assert listing.status_code == 200
    assert stored.prefix in listing.content.decode()
    detail = admin.get(f"/admin/payroll/apikey/{stored.pk}/change/").content.decode()
    for secret in (key, stored.hashed_key):
        assert secret not in listing.content.decode() and secret not in detail
    assert admin.get("/admin/payroll/apikey/add/").status_code == 403


def test_plain_tokens_are_hashed_by_the_migration(park):
    """Keys made before (DRF's plain-text ``authtoken_token``) are hashed by the
    data migration and keep working; the plain-text table is dropped."""
    migration = importlib.import_module("payroll.migrations.0008_api_keys")
    holder = make_user("director", park=make_park())
    plain = "0123456789abcdef0123456789abcdef01234567"
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, "
            "user_id integer NOT NULL, created timestamp NOT NULL)"
        )
        cursor.execute(
            "INSERT INTO authtoken_token VALUES (%s, %s, %s)",
            [plain, holder.pk, "2026-01-02 03:04:05"],
        )
        editor = SimpleNamespace(connection=connection, execute=cursor.execute)
        migration.hash_plain_tokens(apps, editor)
    assert "authtoken_token" not in connection.introspection.table_names()
    stored = ApiKey.objects.get(user=holder)
    assert stored.prefix == plain[:8] and plain not in stored.hashed_key
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {plain}")
    assert client.get("/api/v1/parks/").status_code == 200


def test_a_key_for_a_person_works_like_their_session(park, director):
    """``api_key_create`` gives any login a key (the schema test uses one)."""
    key = api_key_create(user=director)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/v1/parks/").status_code == 200
