"""Test settings: the real settings module, with a private var/ directory and fast hashing."""

import atexit
import os
import shutil
import tempfile
import uuid

os.environ.setdefault("DJANGO_DEBUG", "1")
# Under pytest-xdist every worker (gw0, gw1, …) inherits the controller's environment: drop the
# per-run values once, so each worker gets its own queue, cache namespace and var/ (its own Celery
# workers, counters and SQLite file). Processes a worker starts inherit the worker's values.
if os.environ.get("PYTEST_XDIST_WORKER", "") not in ("", os.environ.get("PORTAL_TEST_WORKER")):
    os.environ["PORTAL_TEST_WORKER"] = os.environ["PYTEST_XDIST_WORKER"]
    os.environ.pop("CELERY_TASK_DEFAULT_QUEUE", None)
    os.environ.pop("TEST_CACHE_KEY_PREFIX", None)
    os.environ.pop("PORTAL_VAR_DIR", None)
# Shared with the Celery workers the tests start: their own queue, fast retries and backoff.
os.environ.setdefault("CELERY_TASK_DEFAULT_QUEUE", f"test-{uuid.uuid4().hex[:12]}")
# Their own cache namespace too: counters (rate limits, sign-in throttling) of an earlier run on
# the same Redis cannot leak into this one.
os.environ.setdefault("TEST_CACHE_KEY_PREFIX", f"test-{uuid.uuid4().hex[:12]}")
os.environ.setdefault("PROVISIONING_RETRY_BASE_SECONDS", "0.2")
os.environ.setdefault("PROVISIONING_RETRY_MAX_SECONDS", "1")
os.environ.setdefault("PROVISIONING_MAX_RETRIES", "2")
os.environ.setdefault("PANEL_RETRY_BACKOFF", "0.05")
os.environ.setdefault("PANEL_CONNECT_TIMEOUT", "2")
os.environ.setdefault("PANEL_READ_TIMEOUT", "5")
if "PORTAL_VAR_DIR" not in os.environ:
    os.environ["PORTAL_VAR_DIR"] = tempfile.mkdtemp(prefix="portal-test-var-")
    atexit.register(shutil.rmtree, os.environ["PORTAL_VAR_DIR"], ignore_errors=True)

from portal.settings import *  # noqa: F403
from portal.settings import DATABASES, REDIS_URL, VAR_DIR

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

if REDIS_URL:
    CACHES["default"]["KEY_PREFIX"] = os.environ["TEST_CACHE_KEY_PREFIX"]  # noqa: F405
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not memory: the Celery workers the integration tests start must see the test data.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-db.sqlite3")}
