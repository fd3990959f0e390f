from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "portal.notifications"
    label = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        from portal.notifications.receivers import on_service_activated, on_usage_threshold_crossed
        from provisioning.signals import service_activated, usage_threshold_crossed

        service_activated.connect(on_service_activated, dispatch_uid="notifications.welcome_email")
        usage_threshold_crossed.connect(
            on_usage_threshold_crossed, dispatch_uid="notifications.usage_alert"
        )
