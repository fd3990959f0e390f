from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "portal.accounts"
    label = "accounts"
    verbose_name = "Customers"

    def ready(self) -> None:
        from portal.accounts.roles import roles_apply_after_migrate

        post_migrate.connect(roles_apply_after_migrate, dispatch_uid="portal.accounts.roles")


class PortalAdminConfig(admin_apps.AdminConfig):
    """``django.contrib.admin`` with ``PortalAdminSite`` as ``admin.site``."""

    default = False  # not a candidate for portal.accounts' own config: that is AccountsConfig
    default_site = "portal.accounts.admin_site.PortalAdminSite"
