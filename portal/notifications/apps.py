from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "portal.notifications"
    label = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        from portal.notifications.receivers import on_service_activated
        from provisioning.signals import service_activated

        service_activated.connect(on_service_activated, dispatch_uid="notifications.welcome_email")
