"""Who may read the API's schema and documentation pages."""

from functools import wraps

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import Http404

from workforce.selectors import user_roles

DOCS_ROLES = {"director", "payroll_officer"}


def staff_only_unless_public(view):
    """Unless ``settings.API_DOCS_PUBLIC`` (development): anonymous visitors
    are sent to log in, and anybody but park pay staff, Django staff and
    superusers gets 404."""

    @wraps(view)
    def guarded(request, *args, **kwargs):
        if not settings.API_DOCS_PUBLIC:
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not (
                user.is_superuser or user.is_staff or user_roles(user) & DOCS_ROLES
            ):
                raise Http404
        return view(request, *args, **kwargs)

    return guarded
