"""``manage.py licence_keygen --private FILE``: a new issuer key pair; the private key goes to
FILE (readable by its owner only, never overwritten), the public key is printed for the portals
that verify the keys this issuer signs."""

from __future__ import annotations

import os
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from licensing.tokens import keypair_generate


class Command(BaseCommand):
    help = (
        "Make a licence issuer's Ed25519 key pair: the private key to a file, the public printed."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--private", required=True, help="Where to write the private key.")

    def handle(self, *args, **options) -> None:
        path = Path(options["private"])
        private_pem, public_pem = keypair_generate()
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise CommandError(f"{path} exists already; it is never overwritten.") from None
        except OSError as exc:
            raise CommandError(f"Cannot write {path}: {exc.strerror}.") from None
        with os.fdopen(descriptor, "w") as out:
            out.write(private_pem)
        self.stderr.write(f"Private key written to {path}; keep it secret. The public key:")
        self.stdout.write(public_pem, ending="")
