import pytest
from django.core.cache import cache
from django.utils import translation

from tests.factories import make_catalogue, make_park, make_worker


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
