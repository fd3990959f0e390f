from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class AccountsConfig(AppConfig):
    name = "portal.accounts"
    label = "accounts"
    verbose_name = "Customers"


class PortalAdminConfig(admin_apps.AdminConfig):
    """``django.contrib.admin`` with ``PortalAdminSite`` as ``admin.site``."""

    default = False  # not a candidate for portal.accounts' own config: that is AccountsConfig
    default_site = "portal.accounts.admin_site.PortalAdminSite"
