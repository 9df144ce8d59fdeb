"""Settings of the worker and publisher subprocesses of ``test_faults.py``.

The test settings, except that tasks really go through the broker when
``REDIS_URL`` is set (``config.settings.test`` runs them in-process, so a
worker started with it runs a run's chunks inside the task that fans them out)
and files land in the ``MEDIA_ROOT`` the test process passes in. With
``SLOW_STORAGE_SECONDS`` set, every file written takes that much longer (a slow
disk), so that a test can catch a worker in the middle of a chunk of PDFs.
"""

import os
import time
from pathlib import Path

from django.core.files.storage import FileSystemStorage

from config.settings.test import *  # noqa: F403
from config.settings.test import MEDIA_ROOT, REDIS_URL

CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT") or MEDIA_ROOT)


class SlowFileSystemStorage(FileSystemStorage):
    def _save(self, name, content):
        time.sleep(float(os.environ.get("SLOW_STORAGE_SECONDS") or 0))
        return super()._save(name, content)


if os.environ.get("SLOW_STORAGE_SECONDS"):
    STORAGES = {
        "default": {"BACKEND": "tests.payroll.fault_settings.SlowFileSystemStorage"},
        "staticfiles": {
            "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        },
    }
