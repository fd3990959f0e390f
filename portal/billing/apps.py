from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "portal.billing"
    label = "billing"
    verbose_name = "Billing"

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from portal.accounts.models import Customer
        from portal.billing.cancellation_card import cancellation_cards
        from portal.billing.receivers import customer_saved
        from portal.billing.selectors import next_due_dates
        from portal.billing.usage_card import usage_cards
        from provisioning.client_area.extensions import register_next_due, register_service_cards

        register_next_due(next_due_dates)
        register_service_cards(cancellation_cards)
        register_service_cards(usage_cards)
        post_save.connect(customer_saved, sender=Customer, dispatch_uid="billing.customer_saved")
