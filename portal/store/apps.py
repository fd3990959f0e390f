from django.apps import AppConfig


class StoreConfig(AppConfig):
    name = "portal.store"
    label = "store"
    verbose_name = "Store"

    def ready(self) -> None:
        from portal.store.plan_card import plan_cards
        from provisioning.client_area.extensions import register_service_cards

        register_service_cards(plan_cards)
