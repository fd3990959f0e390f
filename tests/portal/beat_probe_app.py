"""The portal's Celery app with a test-only schedule, for the real ``celery beat`` processes of
test_beat_lock.py: one probe every second. No worker runs the probe; the test reads the messages
the beats leave in the queue."""

from portal.celery import app

PROBE_TASK = "tests.beat_probe"

app.conf.beat_schedule = {"probe": {"task": PROBE_TASK, "schedule": 1.0}}
