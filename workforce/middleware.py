from django.conf import settings
from django.core.exceptions import BadRequest
from django.middleware.locale import LocaleMiddleware
from django.utils import translation
from django.utils.translation import gettext_lazy as _

NUL_IN_REQUEST = _("The address holds a NUL character (code 0).")


class RefuseNulMiddleware:
    """A NUL character in the path or the query is a 400 at once: no text
    field holds one (PostgreSQL refuses it), so no page or API answer needs
    to think of it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path or any(
            "\x00" in key or any("\x00" in value for value in values)
            for key, values in request.GET.lists()
        ):
            raise BadRequest(NUL_IN_REQUEST)
        return self.get_response(request)


class DefaultChineseLocaleMiddleware(LocaleMiddleware):
    """The language is the one chosen with the switch (a cookie), else Chinese.

    Workers' phones often announce English although their users read Chinese,
    so the browser's Accept-Language header is not followed on the pages; the
    API follows it, as machine clients expect.
    """

    def process_request(self, request):
        if request.path.startswith("/api/"):
            # Machine clients say what they want in Accept-Language.
            return super().process_request(request)
        code = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if code not in dict(settings.LANGUAGES):
            code = settings.LANGUAGE_CODE
        translation.activate(code)
        request.LANGUAGE_CODE = translation.get_language()
