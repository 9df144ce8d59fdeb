from django.conf import settings
from django.middleware.locale import LocaleMiddleware
from django.utils import translation


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
