"""Browser tests: Debian's Chromium driven by Playwright against a live server.

Skipped when /usr/bin/chromium is missing (.ci/run installs it). Screenshots go
to a temporary folder, or to docs/screenshots/ with PARKPAY_SCREENSHOTS=1.
"""

import os
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from tests.e2e.chromium import ARGS, CHROMIUM

PASSWORD = "e2e-demo-password-2026"
ROOT = Path(__file__).resolve().parent.parent.parent

# Playwright's sync API runs an event loop in this thread; the ORM calls the
# tests make between browser steps are still plain synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium")

# What the browser reported blocking by the Content-Security-Policy.
CSP_VIOLATIONS: list[str] = []


@pytest.fixture(autouse=True)
def no_csp_violations():
    """Every page of a browser test works under the CSP: nothing blocked."""
    CSP_VIOLATIONS.clear()
    yield
    assert CSP_VIOLATIONS == []


def note_csp_violation(message) -> None:
    if "Content Security Policy" in message.text:
        CSP_VIOLATIONS.append(message.text)


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("needs /usr/bin/chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=ARGS,
        )
        yield browser
        browser.close()


@pytest.fixture
def demo(transactional_db, live_server, settings):
    """A small demo park with its payroll calculated, served by a live server."""
    settings.DEBUG = False
    quiet = StringIO()
    call_command(
        "seed_demo", workers=30, months=2, seed=5, password=PASSWORD, stdout=quiet
    )
    call_command("demo_payroll", leave_last_month=True, stdout=quiet)
    return live_server


@pytest.fixture
def shots(tmp_path):
    """Where screenshots go."""
    if os.environ.get("PARKPAY_SCREENSHOTS"):
        folder = ROOT / "docs" / "screenshots"
        folder.mkdir(parents=True, exist_ok=True)
        return folder
    return tmp_path


def sign_in(browser, server, username, *, width=1280, height=900):
    context = browser.new_context(
        viewport={"width": width, "height": height}, accept_downloads=True
    )
    page = context.new_page()
    page.on("console", note_csp_violation)
    page.goto(f"{server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.stack button[type=submit]")
    page.wait_for_load_state()
    return page


def phone_page(browser, server, username, language="zh-hans", *, viewport=None):
    """A signed-in page (``username`` None: signed out) on a phone, with the
    language chosen by its cookie, as a person's own phone keeps it."""
    context = browser.new_context(
        viewport=viewport or {"width": 360, "height": 800},
        locale=language,
        accept_downloads=True,
    )
    context.add_cookies(
        [{"name": "django_language", "value": language, "url": server.url}]
    )
    page = context.new_page()
    page.on("console", note_csp_violation)
    if username is not None:
        page.goto(f"{server.url}/accounts/login/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", PASSWORD)
        page.click("form.stack button[type=submit]")
        page.wait_for_load_state()
    return page


def screenshot_both(browser, server, username, path, shots, name):
    """The page at phone (390×844) and desktop (1366×900) size, as
    test_screenshots.py makes the README's pictures."""
    for width, height, label in ((390, 844, "phone"), (1366, 900, "desktop")):
        page = sign_in(browser, server, username, width=width, height=height)
        page.goto(f"{server.url}{path}")
        page.screenshot(path=str(shots / f"{name}-{label}.png"), full_page=False)
        page.context.close()


@pytest.fixture
def payroll_worker(demo):
    """With PostgreSQL and Redis (as in CI), payroll runs started from the page
    go through Redis to a real Celery worker process; otherwise in-process."""
    from django.conf import settings as django_settings
    from django.db import connection

    if not django_settings.REDIS_URL or connection.vendor != "postgresql":
        yield None
        return
    from config import celery_app
    from tests.broker import WorkerProcess, purge_broker

    purge_broker()
    proc = WorkerProcess().start()
    celery_app.conf.task_always_eager = False
    try:
        yield proc
    finally:
        celery_app.conf.task_always_eager = True
        proc.stop()
