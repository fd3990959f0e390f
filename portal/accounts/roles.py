"""Staff roles: Django groups whose permissions are defined here, once.

Each role names permissions as ``app_label.codename`` patterns (``fnmatch``), so a model added
later to an app a role covers (``billing.*``) joins the role without a migration: the roles are
applied by a data migration and again after every ``migrate`` (``post_migrate``). The code is the
source of truth: a permission added to one of these groups by hand is removed at the next migrate.
Staff get a role by being put in its group (they also need "staff status" to open the admin).
"""

from __future__ import annotations

from collections.abc import Iterable
from fnmatch import fnmatchcase
from typing import Any

BILLING = "billing"
SUPPORT = "support"
SUPERADMIN = "superadmin"

ROLES: dict[str, tuple[str, ...]] = {
    # Everything, in every app, present and future.
    SUPERADMIN: ("*.*",),
    # Money: invoices, payments, coupons, plans and prices; customers' billing details; the
    # services and sent mail they are about, read-only.
    BILLING: (
        "billing.*",
        "store.*",
        "accounts.view_customer",
        "accounts.change_customer",
        "provisioning.view_service",
        "provisioning.view_product",
        "notifications.view_*",
    ),
    # Read-only: services, the module log, customers and reconciliation findings.
    SUPPORT: (
        "provisioning.view_service",
        "provisioning.view_modulelogentry",
        "provisioning.view_reconciliationfinding",
        "accounts.view_customer",
    ),
}


def role_grants(role: str, permission: str) -> bool:
    """Whether ``role`` has ``permission`` (``app_label.codename``)."""
    return any(fnmatchcase(permission, pattern) for pattern in ROLES[role])


def roles_apply(*, group_model: Any, permission_model: Any) -> None:
    """Make each role's group hold exactly the permissions its patterns match now.

    Takes the models so that a migration can pass its historical ones.
    """
    permissions = list(
        permission_model.objects.values_list("pk", "content_type__app_label", "codename")
    )
    for role in ROLES:
        group, _ = group_model.objects.get_or_create(name=role)
        group.permissions.set(_matching(role, permissions))


def _matching(role: str, permissions: Iterable[tuple[int, str, str]]) -> list[int]:
    return [
        pk
        for pk, app_label, codename in permissions
        if role_grants(role, f"{app_label}.{codename}")
    ]


def roles_apply_after_migrate(sender: Any, apps: Any = None, **kwargs: Any) -> None:
    """``post_migrate`` receiver: sent once per app, after that app's permissions were made,
    so the last call sees every app's permissions. Idempotent."""
    if apps is None:
        from django.apps import apps
    try:
        group_model = apps.get_model("auth", "Group")
        permission_model = apps.get_model("auth", "Permission")
    except LookupError:
        return
    roles_apply(group_model=group_model, permission_model=permission_model)
