"""``manage.py licence_issue --private FILE --licensee NAME [--products 7,9|*] [--days 365]
[--recheck SECONDS] [--limit services=500 ...]``: print a licence key signed with the issuer's
private key."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from licensing.tokens import ALL_PRODUCTS, LicenceClaims, licence_sign, private_key_from_pem


class Command(BaseCommand):
    help = "Issue a licence key, signed with the issuer's private key."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--private", required=True, help="The issuer's private key file.")
        parser.add_argument("--licensee", required=True)
        parser.add_argument("--products", default=ALL_PRODUCTS, help="Product ids, or * (all).")
        parser.add_argument("--days", type=int, default=365, help="Valid for this many days.")
        parser.add_argument(
            "--recheck", type=int, default=86_400, help="Seconds an online answer may be kept."
        )
        parser.add_argument(
            "--limit", action="append", default=[], metavar="NAME=N", help="A limit, repeatable."
        )

    def handle(self, *args, **options) -> None:
        if options["days"] < 1 or options["recheck"] < 1:
            raise CommandError("--days and --recheck are at least 1.")
        try:
            private_key = private_key_from_pem(Path(options["private"]).read_text())
        except (OSError, ValueError) as exc:
            raise CommandError(f"Cannot read the issuer's private key: {exc}") from None
        now = timezone.now().replace(microsecond=0)
        claims = LicenceClaims(
            licensee=options["licensee"],
            products=tuple(p.strip() for p in options["products"].split(",") if p.strip()),
            issued_at=now,
            expires_at=now + timedelta(days=options["days"]),
            recheck_seconds=options["recheck"],
            limits=dict(_limit(text) for text in options["limit"]),
        )
        self.stdout.write(licence_sign(claims, private_key))


def _limit(text: str) -> tuple[str, int]:
    name, _, value = text.partition("=")
    if not name.strip() or not value.strip().isdigit():
        raise CommandError(f"A limit is NAME=N, e.g. services=500 (got {text!r}).")
    return name.strip(), int(value)
