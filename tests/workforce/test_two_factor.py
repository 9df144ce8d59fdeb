"""Two-factor login (TOTP) for staff: optional per person, required by a park
that says so; the code is asked after the password once a device exists."""

import pytest
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import make_park, make_user, make_worker
from workforce import two_factor

pytestmark = pytest.mark.django_db
PASSWORD = "test-pass-123456"  # tests.factories.make_user
SETUP, VERIFY = "/accounts/two-factor/", "/accounts/two-factor/code/"


def code_of(device) -> str:
    return f"{totp(device.bin_key, step=device.step, digits=device.digits):06d}"


def logged_in(user) -> Client:
    client = Client()
    assert (
        client.post(
            "/accounts/login/", {"username": user.username, "password": PASSWORD}
        ).status_code
        == 302
    )
    return client


def test_a_park_that_requires_it_sends_staff_to_set_up_a_device(settings):
    """No staff page before a device is confirmed; the setup page shows the
    otpauth URI and a QR code drawn here (inline SVG), and one code confirms."""
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # a wrong code, then at once the right
    park = make_park()
    park.require_2fa = True
    park.save()
    director = make_user("director", park=park)
    client = logged_in(director)
    response = client.get("/park/staff/")
    assert response.status_code == 302 and response["Location"].startswith(SETUP)
    page = client.get(SETUP)
    assert page.status_code == 200
    device = TOTPDevice.objects.get(user=director, confirmed=False)
    html = page.content.decode()
    assert "otpauth://totp/" in html and "<svg" in html
    wrong = client.post(
        SETUP, {"code": "000000" if code_of(device) != "000000" else "111111"}
    )
    assert (
        wrong.status_code == 200
        and str(two_factor.WRONG_CODE) in wrong.content.decode()
    )
    assert client.post(SETUP, {"code": code_of(device)}).status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    assert client.get("/park/staff/").status_code == 200


def test_with_a_device_the_code_is_asked_after_the_password():
    park = make_park()
    director = make_user("director", park=park)
    device = TOTPDevice.objects.create(user=director, name="phone", confirmed=True)
    client = logged_in(director)
    response = client.get("/park/staff/")
    assert response.status_code == 302 and response["Location"].startswith(VERIFY)
    assert client.post(VERIFY, {"code": "12345x"}).status_code == 200
    done = client.post(f"{VERIFY}?next=/park/staff/", {"code": code_of(device)})
    assert done.status_code == 302 and done["Location"] == "/park/staff/"
    assert client.get("/park/staff/").status_code == 200


def test_optional_where_the_park_does_not_require_it():
    """A staff member without a device works as before and may set one up; a
    worker has no setup page (404) and is never asked."""
    park = make_park()
    director = make_user("director", park=park)
    client = logged_in(director)
    assert client.get("/park/staff/").status_code == 200
    assert client.get(SETUP).status_code == 200
    worker = make_worker(park, with_login=True)
    park.require_2fa = True
    park.save()
    worker_client = Client()
    worker_client.force_login(worker.user)
    assert worker_client.get("/me/").status_code == 200
    assert worker_client.get(SETUP).status_code == 404


def test_wrong_codes_are_throttled():
    """After a wrong code the next try waits (django-otp's throttling), even
    with the right code."""
    director = make_user("director", park=make_park())
    device = TOTPDevice.objects.create(user=director, name="phone", confirmed=True)
    client = logged_in(director)
    client.post(VERIFY, {"code": "000000" if code_of(device) != "000000" else "111111"})
    again = client.post(VERIFY, {"code": code_of(device)})
    assert str(two_factor.TOO_MANY_TRIES) in again.content.decode()
    assert client.get("/park/staff/").status_code == 302


def test_admin_users_must_set_up_two_factor_where_required(settings):
    """With ``ADMIN_REQUIRES_2FA`` (production), a superuser reaches neither
    the admin nor any page before setting up a device."""
    settings.ADMIN_REQUIRES_2FA = True
    admin = make_user()
    admin.is_staff = admin.is_superuser = True
    admin.save()
    client = logged_in(admin)
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith(SETUP)
    assert client.get(SETUP).status_code == 200
