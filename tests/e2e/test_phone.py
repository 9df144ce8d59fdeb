"""On a phone, in Chinese: every form saves what was entered, and the worker's
pages stay readable offline (the service worker, static/js/sw.js)."""

from datetime import datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone

from payroll import periods
from payroll.models import Adjustment, PayPeriod, Payslip, RateCard
from tests.e2e.conftest import phone_page
from workforce.models import Park, Worker, WorkSession

CACHE = "parkpay-offline-v1"


def local(day, at: str) -> datetime:
    hour, minute = map(int, at.split(":"))
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def test_worker_forms_save_in_chinese(browser, demo):
    """In zh-hans a worker clocks in and out, logs a session and fixes it;
    each is in the database as entered (dates go to the browser as ISO)."""
    worker = Worker.objects.get(user__username="worker")
    page = phone_page(browser, demo, "worker")
    page.goto(f"{demo.url}/me/hours/")
    assert page.locator("html").get_attribute("lang") == "zh-hans"

    page.click("button[value=clock_in]")
    page.wait_for_load_state()
    session = WorkSession.objects.get(worker=worker, end__isnull=True)
    # Two hours ago, so that clocking out keeps a session (not one under a minute).
    start = max(
        timezone.now() - timedelta(hours=2),
        local(timezone.localdate(), "00:01"),
    )
    WorkSession.objects.filter(pk=session.pk).update(start=start)
    page.reload()
    page.click("button[value=clock_out]")
    page.wait_for_load_state()
    session.refresh_from_db()
    assert session.end is not None and session.end > session.start

    yesterday = timezone.localdate() - timedelta(days=1)
    page.fill("#id_day", yesterday.isoformat())
    page.fill("#id_start", "18:00")
    page.fill("#id_end", "19:30")
    page.click("form.stack button[type=submit]")
    page.wait_for_load_state()
    logged = WorkSession.objects.get(worker=worker, start=local(yesterday, "18:00"))
    assert logged.end == local(yesterday, "19:30")

    page.goto(f"{demo.url}/me/hours/{logged.pk}/")
    assert page.input_value("#id_day") == yesterday.isoformat()  # not 2026/12/01
    page.fill("#id_end", "20:15")
    page.click("form.stack button[type=submit]")
    page.wait_for_load_state()
    logged.refresh_from_db()
    assert logged.end == local(yesterday, "20:15")
    assert "此字段是必填项" not in page.content()
    page.context.close()


def test_staff_forms_save_in_chinese(browser, demo):
    """In zh-hans a director adds a rate card and an adjustment and approves
    last month after its confirmation page; each is saved as entered."""
    park = Park.objects.get(code="demo")
    page = phone_page(browser, demo, "director")

    page.goto(f"{demo.url}/park/rates/")
    first_of_next = (timezone.localdate().replace(day=28) + timedelta(days=4)).replace(
        day=1
    )
    project = page.locator("#id_project option:not([value=''])").first
    page.select_option("#id_project", project.get_attribute("value"))
    task = page.locator("#id_task_type option:not([value=''])").first
    page.select_option("#id_task_type", task.get_attribute("value"))
    page.select_option("#id_skill_level", "junior")
    page.fill("#id_rate", "0.3333")
    page.fill("#id_effective_from", first_of_next.isoformat())
    page.click("form.filters button[type=submit]")
    page.wait_for_load_state()
    card = RateCard.objects.get(effective_from=first_of_next, rate=Decimal("0.3333"))
    assert card.skill_level == "junior"
    assert str(card.project.pk) == project.get_attribute("value")

    this_month = periods.period_get_or_create(
        park=park, month=timezone.localdate().replace(day=1)
    )
    worker = Worker.objects.get(user__username="worker")
    page.goto(f"{demo.url}/park/payroll/{this_month.pk}/")
    page.fill("#id_employee_no", worker.employee_no)
    page.select_option("#id_kind", "bonus")
    page.fill("#id_amount", "88.50")
    page.fill("#id_reason", "全勤奖")
    page.click("form.stack button[type=submit]")
    page.wait_for_load_state()
    adjustment = Adjustment.objects.get(period=this_month, worker=worker)
    assert (adjustment.kind, adjustment.amount, adjustment.reason) == (
        "bonus",
        Decimal("88.50"),
        "全勤奖",
    )

    last = PayPeriod.objects.get(
        park=park, month=(this_month.month - timedelta(days=1)).replace(day=1)
    )
    assert last.status == "calculated"
    page.goto(f"{demo.url}/park/payroll/{last.pk}/")
    page.click("#approve")
    page.wait_for_load_state()
    last.refresh_from_db()
    assert last.status == "calculated"  # the confirmation page first
    page.click("#confirm-action")
    page.wait_for_load_state()
    last.refresh_from_db()
    assert last.status == "approved"
    page.context.close()


def _kept(page, path: str) -> bool:
    return page.evaluate(
        "([name, path]) => caches.open(name).then(c => c.match(path)).then(r => !!r)",
        [CACHE, path],
    )


def test_the_payslips_stay_readable_offline(browser, demo):
    """A worker opens her payslips, a payslip and its PDF; offline, the list
    and the payslip still show, with when they were saved, and the PDF still
    downloads. Nothing of the kind is kept for a director."""
    worker = Worker.objects.get(user__username="worker")
    slip = Payslip.objects.filter(worker=worker).order_by("-period__month").first()
    page = phone_page(browser, demo, "worker")
    page.goto(f"{demo.url}/me/payslips/")
    page.evaluate("() => navigator.serviceWorker.ready.then(() => true)")
    page.reload()  # now under the service worker, which keeps the page
    page.wait_for_function(
        "(name) => caches.open(name).then(c => c.match('/me/payslips/'))",
        arg=CACHE,
    )
    page.goto(f"{demo.url}/payslips/{slip.number}/")
    status = page.evaluate(
        "(url) => fetch(url).then(r => r.status)", f"/payslips/{slip.number}/pdf/"
    )
    assert status == 200
    page.wait_for_function(
        "([name, url]) => caches.open(name).then(c => c.match(url))",
        arg=[CACHE, f"/payslips/{slip.number}/pdf/"],
    )

    # The browser's own HTTP cache keeps static files only for a while (a
    # minute for unversioned names); the phone may go offline much later.
    page.context.new_cdp_session(page).send("Network.clearBrowserCache")
    page.context.set_offline(True)
    page.goto(f"{demo.url}/me/payslips/")
    assert page.locator("#payslips").is_visible()
    # Styled and scripted from the service worker's copies, not bare HTML.
    assert page.evaluate(
        "() => getComputedStyle(document.documentElement)"
        ".getPropertyValue('--accent').trim() !== ''"
    )
    assert slip.number in page.content() or slip.period.label in page.content()
    banner = page.locator("#offline-banner")
    assert banner.is_visible()
    assert "您已离线" in banner.inner_text()
    saved_at = banner.locator("time").get_attribute("datetime")
    # Saved by the service worker, on the browser's clock (which the
    # suite's --fake-now does not move): a moment ago.
    assert saved_at
    assert page.evaluate(
        "(s) => Math.abs(Date.now() - Date.parse(s)) < 3600e3", saved_at
    )
    page.goto(f"{demo.url}/payslips/{slip.number}/")
    assert slip.worker.name in page.content()
    assert page.locator("#offline-banner").is_visible()
    head = page.evaluate(
        "(url) => fetch(url).then(r => r.arrayBuffer())"
        ".then(b => String.fromCharCode(...new Uint8Array(b.slice(0, 5))))",
        f"/payslips/{slip.number}/pdf/",
    )
    assert head == "%PDF-"
    page.context.set_offline(False)
    page.context.close()

    staff = phone_page(browser, demo, "director")
    staff.goto(f"{demo.url}/park/staff/")
    staff.evaluate("() => navigator.serviceWorker.ready.then(() => true)")
    staff.reload()
    staff.goto(f"{demo.url}/payslips/{slip.number}/")
    staff.goto(f"{demo.url}/park/payroll/")
    assert not _kept(staff, "/park/staff/")
    assert not _kept(staff, f"/payslips/{slip.number}/")
    staff.context.close()
