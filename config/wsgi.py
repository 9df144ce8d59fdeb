import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

application = get_wsgi_application()


def _warm_up() -> None:
    """Build, once, what each process would otherwise build on its first
    requests: the URL patterns, the translation catalogues and the compiled
    templates. Under ``gunicorn --preload`` the worker processes fork after
    this and share it, so a new worker answers its first pages at full speed."""
    from pathlib import Path

    from django.conf import settings
    from django.template import loader
    from django.urls import get_resolver
    from django.utils import translation

    get_resolver().url_patterns  # noqa: B018 (imports every view)
    for code, _name in settings.LANGUAGES:
        translation.activate(code)
    translation.deactivate()
    for directory in settings.TEMPLATES[0]["DIRS"]:
        for path in sorted(Path(directory).rglob("*.html")):
            loader.get_template(str(path.relative_to(directory)))


_warm_up()
