"""The licensing settings read in a fresh process: PEM keys given in one line (``\\n`` between
lines, as an environment variable holds them) are read, and a malformed value stops the start
naming its variable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from licensing.tokens import public_key_pem

REPO_ROOT = Path(__file__).resolve().parents[2]
COUNT_KEYS = (
    "import django; from django.conf import settings; django.setup(); "
    "from licensing.checks import trusted_public_keys; print(len(trusted_public_keys()))"
)


def run(env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "LICENSING_"))}
    clean.update(
        {"DJANGO_SETTINGS_MODULE": "portal.settings", "PORTAL_VAR_DIR": str(tmp_path), **env}
    )
    return subprocess.run(
        [sys.executable, "-c", COUNT_KEYS],
        cwd=REPO_ROOT,
        env={**clean, "DJANGO_DEBUG": "1"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_two_public_keys_in_one_line_are_read(tmp_path):
    pems = [public_key_pem(Ed25519PrivateKey.generate().public_key()) for _ in range(2)]
    one_line = "".join(pems).replace("\n", "\\n")

    result = run({"LICENSING_PUBLIC_KEYS": one_line}, tmp_path)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "2"


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"LICENSING_PUBLIC_KEYS": "not a key"}, "LICENSING_PUBLIC_KEYS"),
        ({"LICENSING_SERVER_URL": "licences.example.com/verify"}, "LICENSING_SERVER_URL"),
        ({"LICENSING_GRACE_DAYS": "-1"}, "LICENSING_GRACE_DAYS"),
        ({"LICENSING_TIMEOUT_SECONDS": "0"}, "LICENSING_TIMEOUT_SECONDS"),
    ],
)
def test_a_malformed_value_stops_the_start_naming_it(tmp_path, env, named):
    result = run(env, tmp_path)

    assert result.returncode != 0
    assert named in result.stderr
