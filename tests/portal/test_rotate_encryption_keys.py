"""``manage.py rotate_encryption_keys``: after it, the old key can leave FIELD_ENCRYPTION_KEYS."""

from io import StringIO

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.test import override_settings

from portal.core import crypto
from portal.notifications.models import EmailRecord
from provisioning.models import Product, Server
from tests.factories import EmailRecordFactory, ProductFactory, ServerFactory, StaffFactory

OLD_KEY, NEW_KEY = Fernet.generate_key().decode(), Fernet.generate_key().decode()
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


@pytest.fixture
def secrets_under_the_old_key(db):
    """A panel token, a licence key, a recorded email and a staff user's two-factor secrets,
    each written while OLD_KEY was the only key."""
    with override_settings(FIELD_ENCRYPTION_KEYS=[OLD_KEY]):
        servers = ServerFactory.create_batch(3)
        product = ProductFactory(license_key="VPNL1.licence-key-of-the-test")
        email = EmailRecordFactory(body="Your one-time link is inside.")
        staff = StaffFactory()
        TOTP.activate(staff, TOTP_SECRET)
        codes = RecoveryCodes.activate(staff).generate_codes()
    return {
        "tokens": {server.pk: server.api_token for server in servers},
        "product": product,
        "email": (email.pk, email.message),
        "staff": staff,
        "codes": codes,
    }


def _rotate(batch_size: int = 2) -> dict[str, str]:
    out = StringIO()
    call_command("rotate_encryption_keys", "--batch-size", str(batch_size), stdout=out)
    lines = [line.split(": ", 1) for line in out.getvalue().splitlines()]
    return dict(lines)


def test_after_rotation_every_secret_reads_with_the_new_key_alone(secrets_under_the_old_key):
    before = secrets_under_the_old_key

    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW_KEY, OLD_KEY]):
        report = _rotate()

    assert report["provisioning.Server.api_token"].startswith("3 re-encrypted, 0 already")
    assert report["provisioning.Product.license_key"].startswith("1 re-encrypted")
    assert report["notifications.EmailRecord.message"].startswith("1 re-encrypted")
    assert report["mfa.Authenticator.data"].startswith("2 re-encrypted")
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW_KEY]):
        assert {s.pk: s.api_token for s in Server.objects.all()} == before["tokens"]
        assert Product.objects.get(pk=before["product"].pk).license_key == (
            before["product"].license_key
        )
        email_pk, message = before["email"]
        assert EmailRecord.objects.get(pk=email_pk).message == message
        totp = Authenticator.objects.get(user=before["staff"], type=Authenticator.Type.TOTP)
        assert crypto.decrypt(totp.data["secret"]) == TOTP_SECRET
        recovery = Authenticator.objects.get(
            user=before["staff"], type=Authenticator.Type.RECOVERY_CODES
        )
        assert recovery.wrap().generate_codes() == before["codes"]


def test_a_second_run_changes_nothing(secrets_under_the_old_key):
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW_KEY, OLD_KEY]):
        _rotate()
        stored = list(Server.objects.values_list("pk", "api_token").order_by("pk"))

        report = _rotate(batch_size=100)

        assert report["provisioning.Server.api_token"] == (
            "0 re-encrypted, 3 already under the first key, 0 unreadable"
        )
        assert report["mfa.Authenticator.data"].startswith("0 re-encrypted, 2 already")
        assert list(Server.objects.values_list("pk", "api_token").order_by("pk")) == stored


def test_a_value_no_key_reads_is_kept_and_reported(secrets_under_the_old_key):
    out = StringIO()
    with (
        override_settings(FIELD_ENCRYPTION_KEYS=[NEW_KEY]),
        pytest.raises(CommandError, match="cannot be read with any key"),
    ):
        call_command("rotate_encryption_keys", stdout=out)

    assert "provisioning.Server.api_token: 0 re-encrypted, 0 already under the first key, 3 " in (
        out.getvalue()
    )
    with override_settings(FIELD_ENCRYPTION_KEYS=[OLD_KEY]):
        assert {s.pk: s.api_token for s in Server.objects.all()} == (
            secrets_under_the_old_key["tokens"]
        )
