"""Every page of every role on a phone (360×800), in Chinese and English.

For each page the browser checks:

- the page does not scroll sideways (``scrollWidth <= innerWidth``);
- every visible control (link, button, field, summary) is at least 44×44 CSS
  px. Exempt, as WCAG 2.5.8 exempts inline targets: a link inside running
  text, i.e. inside a ``<p>`` or an element of class ``note``;
- in Chinese: no rule number (``R16.3``) and no untranslated code (an audit
  action such as ``period.calculated``, a file name such as ``payslip.pdf``,
  a unit, skill, status or contract code);
- axe-core (from npm, ``make install``) finds no serious or critical
  violation.

The pages come from :data:`PAGES`; :func:`test_every_url_of_the_urlconf_is_listed`
checks that every named URL of the URLconf is either listed there or in
:data:`NOT_PAGES` with the reason it is not a page to look at.
"""

import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from tests.e2e.conftest import ROOT, phone_page

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
AXE_URL = "/__tests__/axe.min.js"  # answered by the test itself (same origin)
PHONE = {"width": 360, "height": 800}

ROLES = ("worker", "trainee", "trainer", "director", "payroll_officer")
ROLES += ("county_official",)
WORKERS = ("worker", "trainee")
PAY_STAFF = ("director", "payroll_officer")

# name -> (who sees it, its path from the ids of the demo park)
Ids = dict
PAGES: dict[str, tuple[tuple[str, ...], Callable[[Ids, str], str]]] = {
    "home": (ROLES, lambda ids, who: "/"),
    "login": ((None,), lambda ids, who: "/accounts/login/"),
    "password_change": (ROLES, lambda ids, who: "/accounts/password/"),
    "password_change_done": (ROLES, lambda ids, who: "/accounts/password/done/"),
    "two_factor": (
        (*PAY_STAFF, "county_official"),
        lambda i, w: "/accounts/two-factor/",
    ),
    "me:home": (WORKERS, lambda ids, who: "/me/"),
    "me:sessions": (WORKERS, lambda ids, who: "/me/hours/"),
    "me:session_edit": (WORKERS, lambda ids, who: f"/me/hours/{ids[who]['session']}/"),
    "me:payslips": (WORKERS, lambda ids, who: "/me/payslips/"),
    "me:training": (WORKERS, lambda ids, who: "/me/training/"),
    "payslip": (
        ("worker", *PAY_STAFF),
        lambda ids, who: f"/payslips/{ids['worker']['payslip']}/",
    ),
    "park:staff": (PAY_STAFF, lambda ids, who: "/park/staff/"),
    "park:trends": (PAY_STAFF, lambda ids, who: "/park/trends/"),
    "park:coverage": (PAY_STAFF, lambda ids, who: "/park/coverage/"),
    "park:password": (
        ("director",),
        lambda ids, who: f"/park/workers/{ids['worker']['worker']}/password/",
    ),
    "park:payroll": (PAY_STAFF, lambda ids, who: "/park/payroll/"),
    "park:period": (PAY_STAFF, lambda ids, who: f"/park/payroll/{ids['period']}/"),
    "park:records": (
        PAY_STAFF,
        lambda ids, who: (
            f"/park/payroll/{ids['period']}/records/?employee_no={ids['worker']['no']}"
        ),
    ),
    "park:period_action": (
        ("director",),
        lambda ids, who: f"/park/payroll/{ids['period']}/approve/",
    ),
    "park:record_correct": (
        PAY_STAFF,
        lambda ids, who: f"/park/records/{ids['record']}/correct/",
    ),
    "park:rates": (PAY_STAFF, lambda ids, who: "/park/rates/"),
    "park:audit": (("director",), lambda ids, who: "/park/audit/"),
    "park:training": (
        (*PAY_STAFF, "trainer"),
        lambda ids, who: "/park/training/",
    ),
    "county:report": (("county_official",), lambda ids, who: "/county/"),
    "me:certificates": (WORKERS, lambda ids, who: "/me/certificates/"),
    "me:profile": (WORKERS, lambda ids, who: "/me/profile/"),
    "me:annual": (WORKERS, lambda ids, who: "/me/annual/"),
    "park:certificates": (PAY_STAFF, lambda ids, who: "/park/certificates/"),
    "park:annual": (
        PAY_STAFF,
        lambda ids, who: f"/park/annual/?employee_no={ids['worker']['no']}",
    ),
    "park:bank_layout": (("director",), lambda ids, who: "/park/bank-layout/"),
    "park:identity_changes": (PAY_STAFF, lambda ids, who: "/park/identity-changes/"),
    "park:session_correct": (
        PAY_STAFF,
        lambda ids, who: f"/park/sessions/{ids['worker']['session']}/correct/",
    ),
    "park:connectors": (PAY_STAFF, lambda ids, who: "/park/connectors/"),
    "park:connector": (
        PAY_STAFF,
        lambda ids, who: f"/park/connectors/{ids['connector']}/",
    ),
    "verify": ((None,), lambda ids, who: "/verify/"),
    "verify_code": ((None,), lambda ids, who: "/verify/AAAA-BBBB-CCCC-DDDD/"),
}

NOT_PAGES = {
    "healthz": "plain text for the load balancer",
    "set_language": "POST only: the language buttons of every page",
    "logout": "POST only: the log-out button of every page",
    "two_factor_code": "only mid-sign-in, for someone with a confirmed device",
    "park:calculate": "POST only: redirects to the period",
    "park:run_status": "JSON for the progress bar",
    "park:staff_csv": "a CSV file",
    "park:bundle": "a PDF file",
    "park:period_export": "an .xlsx or CSV file",
    "park:training_pdf": "a PDF file",
    "payslip_pdf": "a PDF file",
    "county:report_csv": "a CSV file",
    "county:report_pdf": "a PDF file",
    "service_worker": "JavaScript (the service worker)",
    "manifest": "JSON (the web app manifest)",
    "schema": "the OpenAPI schema (YAML) for developers",
    "api-docs": "Swagger UI, a developer tool drawn by its own code",
    "redoc": "Redoc, a developer tool drawn by its own code",
    "certificate_pdf": "a PDF file",
    "me:annual_pdf": "a PDF file",
    "park:annual_pdf": "a PDF file",
    "park:certificate_revoke": "POST only: the revoke button of the certificates page",
    "park:connector_sync": "POST only: the sync button of the connector's page",
    "park:identity_change_decide": "POST only: the buttons of the entries page",
    "park:connector_status": "JSON for the progress bar of a pull",
    "connector_webhook": "JSON for the annotation tool's webhook",
    "connector_webhook_header": "JSON for the annotation tool's webhook",
}
NOT_PAGE_PREFIXES = {
    "admin:": "Django's admin, drawn by Django, for the superuser",
    "api": "the JSON API (/api/v1/)",
}

RULE_NUMBER = re.compile(r"\bR\d+(\.\d+)?\b")
# Codes that mean a label is missing: dotted codes (audit actions, file
# names), and the model's choice values where they are English words.
# The demo's project and task names are bilingual ("2D 拉框 2D box"), so a
# unit counts as a code only where a unit stands: "(box)", "1,200 box".
UNITS = r"(?:box|frame|cuboid|certificate|ticket|image|item)"
CODE = re.compile(
    r"\b[a-z_]+\.[a-z_]+\b"
    rf"|\({UNITS}\)|\d\s{UNITS}\b"
    r"|\b(?:junior|senior|trainee)\b"
    r"|\b(?:open|calculated|approved|paid|queued|running|done|failed)\b"
    r"|\b(?:full_time|part_time)\b"
    r"|No data\b"
)

CHECKS = """() => {
  const de = document.documentElement;
  const out = {scrollWidth: de.scrollWidth, innerWidth: window.innerWidth,
               wide: [], small: [], charts: [],
               text: document.querySelector("main").innerText};
  const name = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
      + (el.className && typeof el.className === "string"
         ? "." + el.className.trim().split(/\\s+/).join(".") : "")
      + " «" + (el.innerText || el.value || el.getAttribute("aria-label") || "")
          .trim().slice(0, 30) + "»";
  if (de.scrollWidth > window.innerWidth) {
    for (const el of document.body.querySelectorAll("*")) {
      const r = el.getBoundingClientRect();
      if (r.right > window.innerWidth + 1 && r.width > 0) out.wide.push(
        name(el) + " right=" + Math.round(r.right));
      if (out.wide.length > 8) break;
    }
  }
  // Chart text: its size in the drawing times the drawing's scale.
  for (const svg of document.querySelectorAll("main svg[role=img]")) {
    const box = svg.viewBox.baseVal;
    const scale = box && box.width ? svg.getBoundingClientRect().width / box.width : 1;
    for (const t of svg.querySelectorAll("text")) {
      const px = parseFloat(getComputedStyle(t).fontSize) * scale;
      if (px < 11) { out.charts.push((t.textContent || "").trim().slice(0, 20)
                                     + " " + px.toFixed(1) + "px"); }
    }
  }
  const controls = document.querySelectorAll(
    "a[href], button, input:not([type=hidden]), select, textarea, summary");
  for (const el of controls) {
    const style = getComputedStyle(el);
    if (style.visibility === "hidden" || el.closest("[hidden]")) continue;
    let r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;  // not rendered
    if (el.tagName === "A" && el.closest("p, .note")) continue;  // inline
    const label = el.closest("label");
    if (label && (el.type === "checkbox" || el.type === "radio")) {
      r = label.getBoundingClientRect();  // the label is the target
    }
    if (r.width < 43.5 || r.height < 43.5) {
      out.small.push(name(el) + " " + Math.round(r.width) + "×" + Math.round(r.height));
    }
  }
  return out;
}"""


def _names(patterns, prefix=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = f"{p.namespace}:" if p.namespace else ""
            yield from _names(p.url_patterns, prefix + ns)
        elif isinstance(p, URLPattern) and p.name:
            yield prefix + p.name


def test_every_url_of_the_urlconf_is_listed():
    """Each named URL is a page checked below or has a reason not to be."""
    names = {
        n
        for n in _names(get_resolver().url_patterns)
        if not any(n.startswith(prefix) for prefix in NOT_PAGE_PREFIXES)
    }
    assert names - set(PAGES) - set(NOT_PAGES) == set()
    assert set(PAGES) - names == set()


def _ids() -> dict:
    from payroll.models import (
        Connector,
        ConnectorKind,
        PayPeriod,
        Payslip,
        WorkRecord,
    )
    from workforce.models import Worker, WorkSession

    ids: dict = {}
    for who in WORKERS:
        worker = Worker.objects.get(user__username=who)
        slip = Payslip.objects.filter(worker=worker).order_by("-period__month").first()
        ids[who] = {
            "worker": worker.pk,
            "no": worker.employee_no,
            "session": WorkSession.objects.filter(worker=worker).latest("start").pk,
            "payslip": slip.number if slip else None,
        }
    # Last month: calculated, not approved (the demo fixture leaves it so), and
    # with work even on the 1st of this month.
    this_month = timezone.localdate().replace(day=1)
    period = PayPeriod.objects.get(
        park__code="demo", month=(this_month - timedelta(days=1)).replace(day=1)
    )
    ids["period"] = period.pk
    connector, _new = Connector.objects.get_or_create(
        park=period.park,
        name="Label Studio",
        defaults={
            "kind": ConnectorKind.LABEL_STUDIO,
            "base_url": "http://127.0.0.1:9",
            "access_token": "not-a-real-token",
            "webhook_secret": "not-a-real-webhook-secret",
        },
    )
    ids["connector"] = connector.pk
    ids["record"] = (
        WorkRecord.objects.filter(
            worker_id=ids["worker"]["worker"],
            work_date__gte=period.month,
            work_date__lt=this_month,
        )
        .order_by("work_date")
        .first()
        .pk
    )
    return ids


def _context(browser, server, who, language):
    page = phone_page(browser, server, who, language, viewport=PHONE)
    page.context.route(
        f"{server.url}{AXE_URL}",
        lambda route: route.fulfill(
            path=str(AXE), content_type="application/javascript"
        ),
    )
    return page


def page_problems(page, *, language: str) -> list[str]:
    """What is wrong with the page shown (empty: nothing)."""
    problems = []
    found = page.evaluate(CHECKS)
    if found["scrollWidth"] > found["innerWidth"]:
        problems.append(
            f"{found['scrollWidth']} px wide: " + ", ".join(found["wide"][:6])
        )
    if found["charts"]:
        problems.append("chart text under 11 px: " + "; ".join(found["charts"][:5]))
    if found["small"]:
        problems.append("small targets: " + "; ".join(found["small"][:8]))
    if language == "zh-hans":
        for pattern in (RULE_NUMBER, CODE):
            hits = sorted({m.group(0) for m in pattern.finditer(found["text"])})
            if hits:
                problems.append(f"untranslated: {hits[:10]}")
    page.add_script_tag(url=AXE_URL)
    result = page.evaluate(
        "() => axe.run(document, {resultTypes: ['violations']})"
        ".then(r => r.violations.filter(v => ['serious', 'critical']"
        ".includes(v.impact)).map(v => v.id + ': ' + v.nodes.slice(0, 3)"
        ".map(n => n.target.join(' ')).join(', ')))"
    )
    problems += [f"axe {v}" for v in result]
    return problems


@pytest.mark.skipif(
    not AXE.exists(), reason=f"needs axe-core in {AXE} (make install runs npm ci)"
)
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_every_page_of_every_role_fits_a_phone(browser, demo, language):
    """No page of any role scrolls sideways at 360 px, has a control under
    44×44, shows a code or rule number (Chinese), or fails axe-core."""
    ids = _ids()
    problems = []
    visited = 0
    for who in (None, *ROLES):
        page = _context(browser, demo, who, language)
        for _name, (roles, path) in PAGES.items():
            if who not in roles:
                continue
            url = path(ids, who)
            response = page.goto(f"{demo.url}{url}")
            assert response.status == 200, (who, url, response.status)
            page.wait_for_load_state()
            visited += 1
            problems += [
                f"{who} {url}: {p}" for p in page_problems(page, language=language)
            ]
        page.context.close()
    assert visited >= 40
    assert problems == [], "\n".join(problems)


def test_axe_is_pinned_by_the_lock_file():
    """The axe-core the tests inject is the one package-lock.json pins."""
    import json

    lock = json.loads(Path(ROOT / "package-lock.json").read_text())
    pinned = lock["packages"]["node_modules/axe-core"]["version"]
    if not AXE.exists():
        pytest.skip("axe-core not installed (make install runs npm ci)")
    assert f"axe v{pinned}" in AXE.read_text()[:200]
