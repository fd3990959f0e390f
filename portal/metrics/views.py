"""``/metrics`` for Prometheus: off (404) until ``METRICS_TOKEN`` or ``METRICS_ALLOWED_IPS`` is set.

Each one that is set must pass: a scrape from outside the allowed networks gets 403, one without
the token 401; neither gets any series. The series name panels, queue and counts a competitor or
an attacker would like to know.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST

from portal.core.http import client_ip, has_bearer_token, no_store
from portal.metrics.collectors import scrape


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    token, networks = settings.METRICS_TOKEN, settings.METRICS_ALLOWED_IPS
    if not token and not networks:
        raise Http404
    if networks and not _from_allowed_network(request, networks):
        return no_store(HttpResponse("Forbidden\n", status=403, content_type="text/plain"))
    if token and not has_bearer_token(request, token):
        response = HttpResponse("Unauthorized\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return no_store(response)
    return no_store(HttpResponse(scrape(), content_type=CONTENT_TYPE_LATEST))


def _from_allowed_network(request: HttpRequest, networks: list[str]) -> bool:
    address = client_ip(request, strict=True)
    return address is not None and any(
        address in ipaddress.ip_network(network, strict=False) for network in networks
    )
