"""Settings come from the environment; production refuses to start unsafely."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
PROD = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "SECRET_KEY": "x" * 20
    + "-not-a-real-secret-but-long-enough-for-checks-"
    + "y" * 20,
    "ALLOWED_HOSTS": "parkpay.example.org",
    # A Fernet key made for these tests only (urlsafe base64 of 32 bytes).
    "FIELD_ENCRYPTION_KEYS": "dGVzdC1vbmx5LWtleS1ub3QtYS1zZWNyZXQtMDAwMDA=",
}


def manage(*args: str, env: dict) -> subprocess.CompletedProcess:
    drop = {"DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE"}  # set by e2e tests
    clean = {k: v for k, v in os.environ.items() if k not in drop}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_refuses_to_start_without_secret_key():
    """Without SECRET_KEY the production settings raise ImproperlyConfigured."""
    env = {**PROD, "SECRET_KEY": ""}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_refuses_to_start_without_encryption_keys():
    """Identity and bank data are never encrypted with a key file made on the
    fly in production: without FIELD_ENCRYPTION_KEYS it does not start."""
    result = manage("check", env={**PROD, "FIELD_ENCRYPTION_KEYS": ""})
    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEYS must be set" in result.stderr


def test_check_deploy_is_clean_with_production_variables():
    """`manage.py check --deploy` reports no issue with production variables."""
    result = manage("check", "--deploy", "--fail-level", "DEBUG", env=PROD)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_embedded_default_is_sqlite_and_eager():
    """With nothing set the database is SQLite and tasks run in-process."""
    env = {
        k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}
    }
    code = (
        "import django, os;"
        "os.environ['DJANGO_SETTINGS_MODULE'] = 'config.settings.local';"
        "django.setup(); from django.conf import settings as s;"
        "print(s.DATABASES['default']['ENGINE'], s.CELERY_TASK_ALWAYS_EAGER)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert out.stdout.split() == ["django.db.backends.sqlite3", "True"], out.stderr


def test_wsgi_module_loads_urls_translations_and_templates_before_forking():
    """config.wsgi builds the URL patterns, both catalogues and every template
    at import, so gunicorn --preload shares them with its worker processes."""
    drop = {"DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    clean = {k: v for k, v in os.environ.items() if k not in drop}
    script = (
        "import config.wsgi\n"
        "from django.template import engines\n"
        "from django.urls import get_resolver\n"
        "from django.utils.translation import trans_real\n"
        "cached = engines['django'].engine.template_loaders[0].get_template_cache\n"
        "print(len(cached), 'url_patterns' in get_resolver().__dict__,\n"
        "      sorted(trans_real._translations))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**clean, **PROD},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    count, urls_loaded, languages = result.stdout.split(" ", 2)
    templates = len(list((ROOT / "templates").rglob("*.html")))
    assert int(count) >= templates > 10
    assert urls_loaded == "True"
    assert "zh-hans" in languages and "en" in languages


def test_production_hides_the_api_docs_and_sends_the_security_headers():
    """Production: API docs for signed-in staff only, even if the environment
    asks otherwise; the admin after a two-factor login; the CSP and
    Permissions-Policy middleware are on."""
    code = (
        "import django; django.setup(); from django.conf import settings as s;"
        "print(s.API_DOCS_PUBLIC, s.ADMIN_REQUIRES_2FA,"
        "'csp.middleware.CSPMiddleware' in s.MIDDLEWARE,"
        "'config.middleware.PermissionsPolicyMiddleware' in s.MIDDLEWARE)"
    )
    drop = {"DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    clean = {k: v for k, v in os.environ.items() if k not in drop}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean, **PROD, "API_DOCS_PUBLIC": "1"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.stdout.split() == ["False", "True", "True", "True"], result.stderr
