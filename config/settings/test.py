"""Test settings: the local defaults with a fast hasher and in-memory e-mail."""

import tempfile

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
