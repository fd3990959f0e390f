"""The staff roles' groups (portal/accounts/roles.py), with the permissions that exist now.

Permissions are made by ``post_migrate``, after every migration, so on a fresh database they do
not exist yet: they are made here first. ``post_migrate`` applies the roles again at the end of
every ``migrate``, which completes them with the permissions of apps migrated after this one.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

from portal.accounts.roles import ROLES, roles_apply


def apply_roles(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    roles_apply(
        group_model=apps.get_model("auth", "Group"),
        permission_model=apps.get_model("auth", "Permission"),
    )


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=list(ROLES)).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_customer_billing_details"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(apply_roles, remove_roles)]
