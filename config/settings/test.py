"""Test settings: the local defaults with a fast hasher and in-memory e-mail."""

import os
import tempfile
from urllib.parse import urlsplit, urlunsplit

from config.settings.local import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
MEDIA_ROOT = tempfile.mkdtemp(prefix="parkpay-test-media-")
PAYROLL_CHUNK_SIZE = 7
# Tests run tasks in-process; the broker tests switch to Redis for their own run.
CELERY_TASK_ALWAYS_EAGER = True
# ... and inline, so that a test sees what a request queued when it returns.
PAYROLL_TASKS_IN_THREAD = False
# Tests keep their caches to themselves, even when REDIS_URL is set.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


def _redis_of_this_process(url: str, worker: str) -> str:
    """Under pytest-xdist each test process (gw0, gw1, …) has a Redis database
    of its own, the next ones after REDIS_URL's: the real Celery workers that
    some tests start consume their broker's queue, and must only see tasks of
    their own test process (and its test database)."""
    if not url or not worker.startswith("gw"):
        return url
    parts = urlsplit(url)
    base = int(parts.path.strip("/") or 0)
    return urlunsplit(parts._replace(path=f"/{(base + int(worker[2:])) % 16}"))


_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
if REDIS_URL and os.environ.get("PARKPAY_TEST_REDIS_OF") != _worker:  # noqa: F405
    REDIS_URL = _redis_of_this_process(REDIS_URL, _worker)  # noqa: F405
    # Processes the tests start (Celery workers) inherit it as it is.
    os.environ["REDIS_URL"] = REDIS_URL
    os.environ["PARKPAY_TEST_REDIS_OF"] = _worker
if REDIS_URL:
    CELERY_BROKER_URL = CELERY_RESULT_BACKEND = REDIS_URL
