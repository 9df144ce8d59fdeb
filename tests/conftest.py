import os
import tempfile
from pathlib import Path

import pytest
from django.core.cache import cache
from django.utils import timezone, translation

from tests.clock import (  # noqa: F401  the --fake-now option's hooks
    mid_this_month,
    pinned,
    pytest_addoption,
    pytest_configure,
    pytest_report_header,
    pytest_unconfigure,
)
from tests.factories import make_catalogue, make_park, make_worker

# R17.1: the tests encrypt personal data under a key file of their own, never
# the developer's (~/.config/parkpay/field-keys).
os.environ.setdefault(
    "PARKPAY_KEY_FILE",
    str(Path(tempfile.mkdtemp(prefix="parkpay-test-keys-")) / "field-keys"),
)


@pytest.fixture
def park(db):
    return make_park()


@pytest.fixture
def worker(park):
    return make_worker(park)


@pytest.fixture
def catalogue(park):
    return make_catalogue(park)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """No test sees another test's cached estimates."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _english_messages():
    """Service messages in English for assertions; pages still choose their
    language per request (Chinese by default)."""
    with translation.override("en"):
        yield


@pytest.fixture
def mid_month():
    """The clock pinned at noon on the 15th of the current month (park time),
    for tests of the month in progress that need days of it behind them and
    days ahead. Yields today's date."""
    with pinned(mid_this_month()):
        yield timezone.localdate()
