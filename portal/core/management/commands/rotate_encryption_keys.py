"""``manage.py rotate_encryption_keys``: every stored secret re-encrypted under the first key of
FIELD_ENCRYPTION_KEYS, so the keys after it can be removed (docs/operations.md, Key rotation)."""

from django.core.management.base import BaseCommand, CommandError

from portal.core.key_rotation import encryption_keys_rotate


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored secret under the first key of FIELD_ENCRYPTION_KEYS; safe to run "
        "again. Run it once every process runs with the new key first."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--batch-size", type=int, default=200, help="Rows locked and rewritten at once."
        )

    def handle(self, *args, **options) -> None:
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1.")
        counts = encryption_keys_rotate(batch_size=options["batch_size"])
        for count in counts:
            self.stdout.write(
                f"{count.label}: {count.rotated} re-encrypted, {count.current} already under the "
                f"first key, {count.unreadable} unreadable"
            )
        unreadable = sum(count.unreadable for count in counts)
        if unreadable:
            raise CommandError(
                f"{unreadable} stored value(s) cannot be read with any key of "
                "FIELD_ENCRYPTION_KEYS and were left as they are: keep the key that wrote them "
                "in the list."
            )
