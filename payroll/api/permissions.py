"""Who may use the API at all; what each person may see is the selectors'
business, what they may do the services'."""

from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.settings import api_settings
from rest_framework.throttling import ScopedRateThrottle

from payroll.integrations import INTEGRATION_GROUP
from workforce.selectors import user_roles

PARK_ROLES = {"worker", "trainer", "director", "payroll_officer"}

REPORTS_ONLY = _("County officials see aggregated reports only, not people's rows.")
IMPORT_ONLY = _("The API key of a park integration may only import work.")
NO_ROLE = _("This login has no role in a park.")


class ParkRolePermission(BasePermission):
    """A person of a park (worker, trainer, director, payroll officer) or a
    superuser. A park integration only on views with ``allow_integration``."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not user or not user.is_authenticated:
            return False
        if user.is_superuser:
            return True
        roles = user_roles(user)
        if INTEGRATION_GROUP in roles:
            self.message = IMPORT_ONLY
            return getattr(view, "allow_integration", False)
        if roles & PARK_ROLES:
            return True
        self.message = REPORTS_ONLY if "county_official" in roles else NO_ROLE
        return False


class ScopedThrottle(ScopedRateThrottle):
    """``ScopedRateThrottle`` on writes only (reads are never throttled), with
    the rates read when a request comes, so settings overrides apply."""

    def allow_request(self, request, view) -> bool:
        if request.method in SAFE_METHODS:
            return True
        return super().allow_request(request, view)

    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)
