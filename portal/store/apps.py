from django.apps import AppConfig


class StoreConfig(AppConfig):
    name = "portal.store"
    label = "store"
    verbose_name = "Store"
