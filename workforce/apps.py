from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkforceConfig(AppConfig):
    name = "workforce"
    verbose_name = _("Workforce")

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from workforce import two_factor

        def two_factor_step(sender, request, user, **kwargs):
            if request is not None and hasattr(request, "session"):
                step = two_factor.two_factor_step(user)
                request.session[two_factor.SESSION_KEY] = step

        user_logged_in.connect(two_factor_step, dispatch_uid="parkpay-two-factor")
