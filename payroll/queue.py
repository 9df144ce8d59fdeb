"""The one place payroll's services queue Celery work.

Services name a task and its arguments; the task is queued when the current
transaction commits, looked up by name in the Celery app. The tasks
(``payroll.tasks``) call the services, never the other way round: the task
modules are imported when the app is ready (``payroll.apps``), so an eager
Celery (no Redis) runs them in-process.

In-process, a task would run inside the request that queued it, so a
recalculation kept the page waiting with no progress to show. With
``PAYROLL_TASKS_IN_THREAD`` (the embedded default, ``make demo``) an eager task
runs instead in a thread of the server process: the request answers at once
and the page's progress bar follows the run as it would with a worker. The
tests run tasks inline (config/settings/test.py) unless a test asks.
"""

import atexit
import logging
import queue
import threading

from celery import current_app
from django.conf import settings
from django.db import connections, transaction

logger = logging.getLogger(__name__)

CALCULATE_PERIOD = "payroll.calculate_period"
RENDER_PERIOD_PAYSLIPS = "payroll.render_period_payslips"
RENDER_PAYSLIP_BUNDLE = "payroll.render_payslip_bundle"


class _Background:
    """One thread that runs queued eager tasks one after another, as a single
    Celery worker would (one writer at a time, which SQLite needs). At exit the
    process waits for what is queued, so a command's PDFs are all written."""

    def __init__(self) -> None:
        self.tasks: queue.Queue = queue.Queue()
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None

    def put(self, signature) -> None:
        with self.lock:
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(
                    target=self._work, name="parkpay-tasks", daemon=True
                )
                self.thread.start()
                atexit.register(self.tasks.join)
        self.tasks.put(signature)

    def _work(self) -> None:
        while True:
            signature = self.tasks.get()
            try:
                signature.apply()
            except Exception:  # the task has recorded its failure on the run
                logger.exception("background task %s failed", signature.task)
            finally:
                connections.close_all()  # this thread's own connections
                self.tasks.task_done()

    def wait(self) -> None:
        """Until every queued task has run (for tests)."""
        self.tasks.join()


background = _Background()


def _start(signature) -> None:
    if current_app.conf.task_always_eager and settings.PAYROLL_TASKS_IN_THREAD:
        background.put(signature)
    else:
        signature.delay()


def enqueue_on_commit(name: str, *args) -> None:
    """Queue the task ``name`` with ``args`` once the transaction commits."""
    signature = current_app.signature(name, args=args)
    transaction.on_commit(lambda: _start(signature))
