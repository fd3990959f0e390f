"""The Celery application: a real worker in every mode (no eager execution outside unit tests)."""

import os

from celery import Celery
from celery.schedules import crontab

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
    "provisioning-reconcile": {
        "task": "provisioning.reconcile_panels",
        "schedule": 15 * 60.0,
        "options": {"expires": 14 * 60},
    },
    "provisioning-usage-pull": {
        "task": "provisioning.pull_usage",
        "schedule": 60 * 60.0,
        "options": {"expires": 55 * 60},
    },
    "provisioning-module-log-cleanup": {
        "task": "provisioning.cleanup_module_log",
        "schedule": crontab(hour=3, minute=17),
        "options": {"expires": 6 * 60 * 60},
    },
}
