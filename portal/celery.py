"""The Celery application: a real worker in every mode (no eager execution outside unit tests)."""

import os
import sys

from celery import Celery
from celery.schedules import crontab
from celery.signals import (
    after_setup_logger,
    after_setup_task_logger,
    before_task_publish,
    task_postrun,
    task_prerun,
)
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from portal.core import logs, request_id

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")


@app.on_configure.connect
def _load_django_settings(**kwargs: object) -> None:
    """Load the settings before Celery reads them, so that an error in them is one line.

    Celery first reads its configuration deep inside its command line parsing, where an error
    in the settings would surface as a 50-line traceback. Where the settings are already loaded
    (the web process, the tests) this does nothing.
    """
    try:
        settings.INSTALLED_APPS  # noqa: B018 - loads the settings, which check the environment
    except ImproperlyConfigured as exc:
        print(f"Configuration error: {exc}", file=sys.stderr)
        sys.exit(2)


# The request id follows the work into tasks (portal/core/request_id.py).
before_task_publish.connect(request_id.add_to_task_headers, weak=False)
task_prerun.connect(request_id.enter_task, weak=False)
task_postrun.connect(request_id.leave_task, weak=False)


@after_setup_logger.connect
@after_setup_task_logger.connect
def _json_logs(logger: object, **kwargs: object) -> None:
    """The worker and beat log through handlers Celery sets up: give them LOG_FORMAT too."""
    if settings.LOG_FORMAT == "json":
        logs.use_json_format(logger)


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
    "provisioning-licence-checks": {
        "task": "provisioning.check_licences",
        "schedule": 5 * 60.0,
        "options": {"expires": 4 * 60},
    },
    "provisioning-usage-pull": {
        "task": "provisioning.pull_usage",
        "schedule": 60 * 60.0,
        "options": {"expires": 55 * 60},
    },
    "notifications-email-sweeper": {
        "task": "notifications.sweep_queued_emails",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    "billing-renewals": {
        "task": "billing.issue_renewals",
        "schedule": crontab(hour=2, minute=7),
        "options": {"expires": 6 * 60 * 60},
    },
    "billing-usage-charges": {
        "task": "billing.issue_usage_charges",
        "schedule": crontab(hour=2, minute=37),
        "options": {"expires": 6 * 60 * 60},
    },
    "billing-dunning": {
        "task": "billing.run_dunning",
        "schedule": crontab(hour=9, minute=3),
        "options": {"expires": 6 * 60 * 60},
    },
    "provisioning-module-log-cleanup": {
        "task": "provisioning.cleanup_module_log",
        "schedule": crontab(hour=3, minute=17),
        "options": {"expires": 6 * 60 * 60},
    },
}
