"""The issuer's side, so the loop runs locally: ``licence_keygen`` writes a private key (owner
only, never overwritten) and prints the public one; ``licence_issue`` prints a key that the
public key verifies, with the claims asked for."""

import io
import stat
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from licensing.tokens import licence_verify, public_key_from_pem


def keygen(path) -> str:
    out = io.StringIO()
    call_command("licence_keygen", "--private", str(path), stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_a_key_pair_then_a_licence_it_verifies(tmp_path):
    private = tmp_path / "issuer.pem"
    public_pem = keygen(private)
    out = io.StringIO()

    call_command(
        "licence_issue", "--private", str(private), "--licensee", "Acme Hosting",
        "--products", "7, 9", "--days", "30", "--recheck", "600", "--limit", "services=500",
        stdout=out,
    )  # fmt: skip

    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    claims = licence_verify(
        out.getvalue().strip(), [public_key_from_pem(public_pem)], now=timezone.now()
    )
    assert (claims.licensee, claims.products, claims.recheck_seconds) == (
        "Acme Hosting", ("7", "9"), 600,
    )  # fmt: skip
    assert dict(claims.limits) == {"services": 500}
    assert claims.expires_at - claims.issued_at == timedelta(days=30)


def test_an_existing_private_key_is_never_overwritten(tmp_path):
    private = tmp_path / "issuer.pem"
    keygen(private)
    before = private.read_text()

    with pytest.raises(CommandError, match="exists already"):
        keygen(private)
    assert private.read_text() == before


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        (["--limit", "services"], "A limit is NAME=N"),
        (["--days", "0"], "at least 1"),
    ],
)
def test_bad_arguments_are_refused_with_a_reason(tmp_path, extra, reason):
    private = tmp_path / "issuer.pem"
    keygen(private)
    with pytest.raises(CommandError, match=reason):
        call_command(
            "licence_issue", "--private", str(private), "--licensee", "x", *extra,
            stdout=io.StringIO(),
        )  # fmt: skip


def test_a_missing_private_key_is_refused(tmp_path):
    with pytest.raises(CommandError, match="Cannot read the issuer's private key"):
        call_command(
            "licence_issue", "--private", str(tmp_path / "none.pem"), "--licensee", "x",
            stdout=io.StringIO(),
        )  # fmt: skip
