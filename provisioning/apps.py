from django.apps import AppConfig


class ProvisioningConfig(AppConfig):
    name = "provisioning"
    verbose_name = "Provisioning"

    def ready(self) -> None:
        # Register the tasks in every process, so that a task sent by name (enqueue_on_commit)
        # is the registered one (its options, eager mode) and not a bare message.
        from provisioning import tasks  # noqa: F401
