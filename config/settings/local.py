"""The embedded default: runs on a bare machine with nothing configured."""

from config.settings.base import *  # noqa: F403
from config.settings.base import env_bool

DEBUG = env_bool("DEBUG", True)
if not SECRET_KEY:  # noqa: F405
    # Only for a developer's machine; production.py refuses to start without one.
    SECRET_KEY = "local-development-only-not-a-secret"
# The API's documentation is open on a developer's machine.
API_DOCS_PUBLIC = env_bool("API_DOCS_PUBLIC", True)
