import os
import sys

from django.core.exceptions import ImproperlyConfigured
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

try:
    application = get_wsgi_application()
except ImproperlyConfigured as exc:
    # A setting to fix: one line naming it. Exit status 4 is gunicorn's "App failed to load",
    # on which it stops; on any other status it would restart the worker again and again.
    print(f"Configuration error: {exc}", file=sys.stderr)
    sys.exit(4)
