from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import BadRequest
from django.middleware.locale import LocaleMiddleware
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from workforce import two_factor

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


class TwoFactorMiddleware:
    """A login that still owes its two-factor code, or a device its park
    requires, reaches no page but the two-factor pages (and log out)."""

    EXEMPT = ("/accounts/two-factor/", "/accounts/logout/", "/i18n/", "/static/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if (
            user.is_authenticated
            and not user.is_verified()
            and not request.path.startswith(self.EXEMPT)
        ):
            step = request.session.get(two_factor.SESSION_KEY)
            if step is None:  # a session from before two-factor login
                step = two_factor.two_factor_step(user)
                request.session[two_factor.SESSION_KEY] = step
            if step != two_factor.NONE:
                name = "two_factor_code" if step == two_factor.VERIFY else "two_factor"
                return redirect_to_login(request.get_full_path(), reverse(name))
        return self.get_response(request)
