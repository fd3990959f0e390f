"""gunicorn's configuration: ``gunicorn -c python:portal.gunicorn_conf`` (docs/operations.md).

Read from the environment like the settings; a command-line option still wins over it. The
master imports the portal package (Django's modules and the Celery app come with it) but neither
reads the settings nor loads the apps; the workers load the WSGI application after the fork. So
LOG_FORMAT and DJANGO_DEBUG are read here the way the settings read them, and gunicorn's own
lines (start, worker timeouts, the access log) match the portal's.
"""

import multiprocessing
import os
from datetime import timedelta
from typing import Any

from gunicorn.glogging import Logger

from portal.core.logs import TextFormatter, mask, use_json_format
from portal.core.request_id import HEADER, is_valid


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    if not value.isdigit() or int(value) < 1:
        raise SystemExit(f"Configuration error: {name} must be a whole number of 1 or more.")
    return int(value)


def _debug() -> bool:
    return os.environ.get("DJANGO_DEBUG", "").strip().lower() in ("1", "true", "yes", "y", "on")


class TextLogger(Logger):
    """gunicorn's own readable lines (``LOG_FORMAT=text``), masked as the portal's are: the
    access line's request line holds the path and its query string."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for handler in self.error_log.handlers:
            handler.setFormatter(TextFormatter(self.error_fmt, self.datefmt))
        for handler in self.access_log.handlers:
            handler.setFormatter(TextFormatter(self.access_fmt))


class JsonLogger(Logger):
    """gunicorn's error and access logs as JSON lines, the access line with the request id.

    The access line has the method, the path without its query string and with the keys of
    password-reset, email-confirmation and one-time links masked, the status, the bytes sent, the
    duration and the client address; no headers.
    """

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        use_json_format(self.error_log)
        use_json_format(self.access_log)

    def access(self, resp: Any, req: Any, environ: dict, request_time: timedelta) -> None:
        if not self.access_log_enabled:
            return
        status = str(resp.status).split(None, 1)[0]
        method, path = environ.get("REQUEST_METHOD", "-"), mask(environ.get("PATH_INFO", "-"))
        request_id = _response_header(resp, HEADER)
        http = {
            "method": method,
            "path": path,
            "status": int(status) if status.isdigit() else status,
            "bytes": getattr(resp, "sent", None),
            "duration_ms": round(request_time.total_seconds() * 1000, 1),
            "remote_addr": environ.get("REMOTE_ADDR"),
        }
        self.access_log.info(
            "%s %s %s",
            method,
            path,
            status,
            extra={"http": http, "request_id": request_id if is_valid(request_id) else None},
        )


def _response_header(resp: Any, name: str) -> str | None:
    headers = resp.headers.items() if hasattr(resp.headers, "items") else resp.headers
    return next((value for key, value in headers if key.lower() == name.lower()), None)


wsgi_app = "portal.wsgi:application"
# Loopback by default: a reverse proxy on this machine. Behind a load balancer on another one,
# bind 0.0.0.0:8000 and set FORWARDED_ALLOW_IPS (below) to its address.
bind = [os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")]
# Threads, because a service page waits on its panel for a few seconds (live status, configs):
# a waiting thread must not hold a whole process.
worker_class = "gthread"
workers = _int("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1)
threads = _int("GUNICORN_THREADS", 4)
# Above the longest wait of a request (a panel call an admin button waits on: 3 s + 8 s).
timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = 30
keepalive = 5
# A worker is replaced after this many requests (jittered, so not all at once): bounds any leak.
max_requests = 2000
max_requests_jitter = 200
# gunicorn believes the scheme headers (X-Forwarded-Proto: https) and its forwarder headers only
# from the addresses in FORWARDED_ALLOW_IPS, which it reads itself (default 127.0.0.1,::1). Never
# "*" unless nothing but the proxy can reach gunicorn: anyone could then claim https. It does not
# read X-Forwarded-For: Django does, as PORTAL_TRUSTED_PROXY_COUNT says (portal.core.http).
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
logger_class = (
    JsonLogger
    if os.environ.get("LOG_FORMAT", "text" if _debug() else "json") == "json"
    else TextLogger
)
