"""Fixtures of the API tests (test_api_*.py, test_schema.py)."""

import pytest
from django.core.cache import cache
from django.db import transaction

from tests.payroll.api_world import World


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Built once per test module inside a transaction that is rolled back at
    its end; each test runs in a savepoint of it (pytest-django's ``db``), so
    what a test writes is gone before the next. Tests change no attribute of
    these objects: they re-read what they change."""
    with django_db_blocker.unblock(), transaction.atomic():
        built = World()
        yield built
        transaction.set_rollback(True)


@pytest.fixture(autouse=True)
def fresh_throttles(request):
    """Throttle counters live in the cache: every API test starts with none."""
    if "world" not in request.fixturenames:
        yield
        return
    cache.clear()
    yield
    cache.clear()
