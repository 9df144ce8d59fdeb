from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoConfig(AppConfig):
    """The demo seeder: the top layer, it uses every other app."""

    name = "demo"
    verbose_name = _("Demo")
