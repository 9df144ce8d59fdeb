"""Response headers that Django's SecurityMiddleware does not set, and the
compression of text responses."""

from django.conf import settings
from django.middleware.gzip import GZipMiddleware


class PermissionsPolicyMiddleware:
    """``Permissions-Policy``: browser features no page of ParkPay uses are
    switched off (``settings.PERMISSIONS_POLICY``: feature → allow-list)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        policy = getattr(settings, "PERMISSIONS_POLICY", None)
        if policy and "Permissions-Policy" not in response:
            response["Permissions-Policy"] = ", ".join(
                f"{feature}=({' '.join(allow)})" for feature, allow in policy.items()
            )
        return response


class CompressTextMiddleware(GZipMiddleware):
    """Pages, scripts, JSON and CSV gzipped for a browser that accepts it: a
    worker's earnings page is about a fifth of its size on a slow network.
    PDFs, images and archives are compressed already and pass as they are
    (with their length, for the phone's download bar); the static files come
    compressed from collectstatic and are served by WhiteNoise before this.

    BREACH (guessing a secret in a compressed page from its length, with text
    an attacker adds to the same page) is mitigated by Django: the CSRF token
    is masked anew in every response, and the gzip header carries a file name
    of 0–99 random bytes ("Heal the Breach"), so lengths do not repeat."""

    TYPES = (
        "text/",
        "application/json",
        "application/manifest+json",
        "application/javascript",
        "application/xml",
    )

    def process_response(self, request, response):
        content_type = response.get("Content-Type", "")
        if not content_type.startswith(self.TYPES):
            return response
        return super().process_response(request, response)
