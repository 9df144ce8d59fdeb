"""The API against its own OpenAPI schema (schemathesis, in process): a
director's requests, generated from the schema, never get a 5xx."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from payroll.integrations import api_key_create
from tests.factories import make_park, make_user, make_worker

pytestmark = pytest.mark.django_db


@pytest.fixture
def director_token():
    park = make_park()
    make_worker(park)
    return api_key_create(user=make_user("director", park=park))


@pytest.fixture(autouse=True)
def _connection_kept_across_requests():
    """The WSGI app closes the database connection after each request, which
    would end the test's transaction on PostgreSQL; Django's test client
    turns that off the same way."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


# Loaded at collection: the schema is made from the code, without the database.
schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())


@schema.parametrize()
@settings(
    max_examples=3,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_no_server_error(case, director_token):
    case.call_and_validate(
        headers={"Authorization": f"Token {director_token}"},
        checks=[not_a_server_error],
    )
