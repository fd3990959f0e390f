"""The test settings, with a test database name of its own so a bench never meets a test run."""

import uuid

from tests.settings import *  # noqa: F403
from tests.settings import DATABASES, VAR_DIR

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "bench-db.sqlite3")}
else:
    DATABASES["default"]["TEST"] = {"NAME": f"bench_{uuid.uuid4().hex[:12]}"}
