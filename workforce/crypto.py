"""Encryption at rest of sensitive personal information (R17.1).

Values are encrypted with Fernet (AES-128-CBC and HMAC-SHA256, from the
``cryptography`` package) through ``MultiFernet``, so keys can be rotated:

- ``FIELD_ENCRYPTION_KEYS`` (a setting or an environment variable): Fernet
  keys separated by commas, newest first. The newest encrypts; every key
  decrypts, so rows written under an older key stay readable after a new key
  is added. ``manage.py reencrypt_personal_data`` then rewrites every value
  under the newest key, after which the older keys can be removed.
- Without it (the embedded default, ``make demo``): a key file outside the
  repository, ``PARKPAY_KEY_FILE`` or ``~/.config/parkpay/field-keys``, one key
  a line, newest first; created with a new key on first use, readable by its
  owner only. Losing it loses the encrypted values: back it up with the
  database, but never in the same place.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models

DEFAULT_KEY_FILE = Path("~/.config/parkpay/field-keys")
KEY_UNREADABLE = (
    "An encrypted personal field cannot be decrypted with the keys configured "
    "(FIELD_ENCRYPTION_KEYS or the key file): a key that wrote it is missing."
)


class PersonalDataKeyError(RuntimeError):
    """A stored value was written under a key that is no longer configured."""


def key_file() -> Path:
    return Path(os.environ.get("PARKPAY_KEY_FILE") or DEFAULT_KEY_FILE).expanduser()


def _split(keys) -> tuple[str, ...]:
    if isinstance(keys, str):
        keys = keys.split(",")
    return tuple(k.strip() for k in keys if k and k.strip())


def _from_file() -> tuple[str, ...]:
    path = key_file()
    if not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(Fernet.generate_key().decode() + "\n")
    return _split(path.read_text().splitlines())


def configured_keys() -> tuple[str, ...]:
    """The keys in force, newest first."""
    keys = _split(
        getattr(settings, "FIELD_ENCRYPTION_KEYS", None)
        or os.environ.get("FIELD_ENCRYPTION_KEYS", "")
    )
    return keys or _from_file()


@lru_cache(maxsize=8)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in keys])


def fernet() -> MultiFernet:
    return _fernet(configured_keys())


def encrypt(value: str) -> str:
    return fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise PersonalDataKeyError(KEY_UNREADABLE) from exc


class EncryptedTextField(models.TextField):
    """A text column stored encrypted; reads give the plain text back.

    An empty value is stored as an empty string (nothing on record). The
    ciphertext differs on every write, so the column cannot be searched or
    compared in SQL: look rows up by other fields."""

    def from_db_value(self, value, expression, connection):
        if not value:
            return value
        return decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if not value:
            return value
        return encrypt(value)
