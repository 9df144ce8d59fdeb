"""Two-factor login (TOTP, django-otp) for staff: directors, payroll officers
and county officials.

Optional for each of them, required by a park with ``Park.require_2fa``, and
for users of the admin with ``settings.ADMIN_REQUIRES_2FA`` (production). Once
a person has a confirmed device, their login asks for its code after the
password. What a login must still do ("verify", "setup" or "none") is decided
when they log in and kept in their session, so pages cost no extra queries;
a park's new requirement applies from its staff's next login.
"""

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from workforce.models import Park

STAFF_ROLES = {"director", "payroll_officer", "county_official"}
SESSION_KEY = "parkpay_two_factor"
VERIFY, SETUP, NONE = "verify", "setup", "none"

WRONG_CODE = _("That code is not right. Type the code your app shows now.")
TOO_MANY_TRIES = _("Too many wrong codes. Wait a little, then try again.")


# Reads


def is_two_factor_staff(user) -> bool:
    """Whether ``user`` may use two-factor login: a staff role (read without
    the per-request role cache, which a login must not fill) or the admin."""
    if user.is_staff or user.is_superuser:
        return True
    return user.groups.filter(name__in=STAFF_ROLES).exists()


def _admin_requires_2fa(user) -> bool:
    return (user.is_staff or user.is_superuser) and settings.ADMIN_REQUIRES_2FA


def confirmed_device(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("id").first()


def two_factor_step(user) -> str:
    """What ``user`` must do after the password: enter a code (``VERIFY``),
    set up a device first (``SETUP``) or nothing (``NONE``)."""
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        return VERIFY
    if _admin_requires_2fa(user):
        return SETUP
    if (
        is_two_factor_staff(user)
        and Park.objects.filter(staff__user=user, require_2fa=True).exists()
    ):
        return SETUP
    return NONE


# Writes


@transaction.atomic
def totp_device_start(*, user) -> TOTPDevice:
    """The device being set up for ``user``: the unconfirmed one, or a new one
    with a new secret."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice(user=user, name="ParkPay", confirmed=False)
        device.full_clean()
        device.save()
    return device


@transaction.atomic
def totp_device_confirm(*, device: TOTPDevice, code: str) -> bool:
    """Confirm ``device`` with one of its codes; False if the code is wrong."""
    if not device.verify_token(code):
        return False
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=device.user, confirmed=False).delete()
    return True
