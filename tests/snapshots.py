"""What a refused request must leave as it was: every row of every table, read back.

The sweeps that send requests which must change nothing (a POST without its CSRF token, a GET,
another customer's id, a support user's button) compare a snapshot taken before with one taken
after, instead of naming the few rows each request might touch: a view that changes something
nobody thought of still shows. Sessions are left out (a request may rotate its own).
"""

from __future__ import annotations

from typing import Any

from django.apps import apps

#: Tables a refused request may still write: the session (messages, rotated keys).
NOT_COMPARED = {"sessions.session"}


def database_snapshot() -> dict[str, list[dict[str, Any]]]:
    """Every row of every concrete table (many-to-many tables included), by model, in pk order."""
    return {
        model._meta.label_lower: list(model._base_manager.order_by("pk").values())
        for model in apps.get_models(include_auto_created=True)
        if not model._meta.proxy and model._meta.label_lower not in NOT_COMPARED
    }


def changed_tables(before: dict[str, list], after: dict[str, list]) -> list[str]:
    """The tables whose rows differ (an empty list when nothing changed)."""
    return sorted(
        label for label in before.keys() | after.keys() if before.get(label) != after.get(label)
    )


#: What a panel's system/status answer writes on its Server: the licence slots last seen.
PANEL_SLOT_FIELDS = ("panel_accounts_used", "panel_accounts_total", "panel_status_at")


def without_panel_reads(snapshot: dict[str, list]) -> dict[str, list]:
    """The snapshot less the module log's reads of a panel and the licence slots they stored
    on its server: a catalogue page asks the plans' panels whether they have room (cached
    briefly), and every call is logged, by design. Anything else a page writes is a change."""
    log, server = "provisioning.modulelogentry", "provisioning.server"
    servers = [
        {key: value for key, value in row.items() if key not in PANEL_SLOT_FIELDS}
        for row in snapshot[server]
    ]
    return {
        **snapshot,
        log: [row for row in snapshot[log] if row["method"] != "GET"],
        server: servers,
    }
