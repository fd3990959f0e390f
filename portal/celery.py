"""The Celery application: a real worker in every mode (no eager execution outside unit tests)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

app.conf.beat_schedule = {
    "worker-heartbeat": {
        "task": "portal.core.tasks.record_heartbeat",
        "schedule": 30.0,
        "options": {"expires": 25},
    },
    "provisioning-sweeper": {
        "task": "provisioning.sweep_stale_actions",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
}
