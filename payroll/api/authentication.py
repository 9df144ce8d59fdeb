"""API keys in the header clients have always sent: ``Authorization: Token
<key>``. The key is looked up by its hash (``payroll.integrations``)."""

from django.utils.translation import gettext_lazy as _
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed

from payroll import integrations
from payroll.models import ApiKey

INVALID_KEY = _("Invalid or revoked API key.")


class ApiKeyAuthentication(TokenAuthentication):
    keyword = "Token"
    model = ApiKey

    def authenticate_credentials(self, key):
        api_key = integrations.api_key_get(key=key)
        if api_key is None or not api_key.user.is_active:
            raise AuthenticationFailed(INVALID_KEY)
        integrations.api_key_used(api_key=api_key)
        return api_key.user, api_key
