"""Authentication hardening: lockout, password strength, CSRF on forms."""

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client

from tests.factories import make_user

pytestmark = pytest.mark.django_db
GOOD = "test-pass-123456"  # tests.factories' password


def attempt(client, username, password):
    return client.post(
        "/accounts/login/",
        {"username": username, "password": password},
        REMOTE_ADDR="10.9.8.7",
    )


def test_repeated_failed_logins_lock_the_account():
    """The 5th failure locks the login; then the right password is refused too."""
    user = make_user("worker")
    client = Client()
    for _ in range(4):
        assert attempt(client, user.username, "wrong-password").status_code == 200
    assert attempt(client, user.username, "wrong-password").status_code == 429
    locked = attempt(client, user.username, GOOD)
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session


def test_a_success_resets_the_failures():
    user = make_user("worker")
    client = Client()
    for _ in range(4):
        attempt(client, user.username, "wrong-password")
    assert attempt(client, user.username, GOOD).status_code == 302
    client.logout()
    for _ in range(4):
        attempt(client, user.username, "wrong-password")
    assert attempt(client, user.username, GOOD).status_code == 302


@pytest.mark.parametrize("password", ["short", "12345678901", "password1234"])
def test_weak_passwords_are_refused(password):
    with pytest.raises(ValidationError):
        validate_password(password)


def test_forms_need_a_csrf_token():
    """A login without the CSRF token is refused (403)."""
    client = Client(enforce_csrf_checks=True)
    response = client.post("/accounts/login/", {"username": "x", "password": "y"})
    assert response.status_code == 403
