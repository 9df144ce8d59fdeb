"""The web app manifest and the service worker, served from the site root so
that the worker's pages can be installed and read offline (static/js/sw.js)."""

import json

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import Http404, HttpResponse, JsonResponse
from django.templatetags.static import static
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

THEME = "#0b6e4f"


@require_GET
@cache_control(max_age=3600)
def manifest(request):
    """What Chromium needs to offer "install": a name, icons of 192 and 512
    px, a start URL inside the scope and a standalone display."""
    icons = [
        {
            "src": static(f"icons/icon-{size}.png"),
            "sizes": f"{size}x{size}",
            "type": "image/png",
            "purpose": "any maskable",
        }
        for size in (192, 512)
    ]
    data = {
        "id": "/",
        "name": _("ParkPay: my pay"),
        "short_name": "ParkPay",
        "description": _("Hours, earnings and payslips of the park's workers."),
        "lang": request.LANGUAGE_CODE,
        "start_url": "/?source=app",
        "scope": "/",
        "display": "standalone",
        "background_color": "#f6f7f9",
        "theme_color": THEME,
        "icons": icons,
    }
    response = JsonResponse(data, json_dumps_params={"ensure_ascii": False})
    response["Content-Type"] = "application/manifest+json"
    return response


@require_GET
@cache_control(no_cache=True)
def service_worker(request):
    """static/js/sw.js at /sw.js: a worker's scope is the folder it is served
    from, and it must cover /me/ and /payslips/. Checked for updates on every
    visit (no-cache), so a new version reaches phones at once."""
    path = finders.find("js/sw.js")
    if path is None:
        raise Http404
    with open(path, encoding="utf-8") as f:
        # STATIC_URL itself: static("") is no file, and the production storage
        # (hashed names from its manifest) refuses a name it has no entry for.
        script = f.read().replace(
            'var STATIC = "/static/";',
            f"var STATIC = {json.dumps(settings.STATIC_URL)};",
            1,
        )
    response = HttpResponse(script, content_type="text/javascript")
    response["Service-Worker-Allowed"] = "/"
    return response
