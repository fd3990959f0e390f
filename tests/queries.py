"""Counting the database queries of a page view, as the "fixed number of queries" tests do."""

from __future__ import annotations

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext


def page_queries(client: Client, url: str) -> int:
    """The queries of one GET of ``url``, asked once before so that what a page caches for a
    while (the shop's branding, a plan's availability) is cached, as on a busy site."""
    assert client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries.captured_queries)
