"""Redaction: what the module log and the debug log may keep of a panel exchange."""

from __future__ import annotations

import copy

import pytest

from vpnpanel.redaction import (
    MASK,
    MIN_SECRET_LENGTH,
    is_sensitive_key,
    mask_token,
    redact,
    scrub_text,
)

from .samples import OLD_CLIENT, OTL_URL, TOKEN, WG_CONFIG


def test_sensitive_keys_are_masked_at_any_depth():
    value = {"data": {"clients": [OLD_CLIENT]}, "Authorization": "Bearer abc"}

    redacted = redact(value)

    client = redacted["data"]["clients"][0]
    assert client["password"] == MASK
    assert client["private_key"] == MASK
    assert client["public_key"] == OLD_CLIENT["public_key"]
    assert client["name"] == "ruslan_dom_pc"
    assert redacted["Authorization"] == MASK


def test_redaction_never_modifies_its_input():
    value = {"password": "p", "items": [{"token": "t"}]}
    original = copy.deepcopy(value)

    redact(value)

    assert value == original


@pytest.mark.parametrize(
    "key",
    [
        "password",
        "PrivateKey",
        "private-key",
        "preshared_key",
        "token",
        "api_token",
        "secret",
        "client_secret",
        "authorization",
        "otl",
        "key",
        "access_hash",
        "new_password",
    ],
)
def test_sensitive_key_names(key):
    assert is_sensitive_key(key)


@pytest.mark.parametrize("key", ["public_key", "name", "username", "status", "ipv4"])
def test_ordinary_key_names(key):
    assert not is_sensitive_key(key)


def test_private_key_lines_in_short_config_text_are_masked():
    assert scrub_text(WG_CONFIG).count(MASK) == 1
    assert "GNuP0siry" not in redact(WG_CONFIG, max_string=1000)
    assert "Endpoint = 198.51.100.1:51820" in redact(WG_CONFIG, max_string=1000)


def test_long_strings_become_a_length_marker():
    assert redact("A" * 1234) == "<1234 chars>"
    assert redact({"data": "x" * 500})["data"] == "<500 chars>"


def test_one_time_link_urls_are_masked():
    assert scrub_text(f"link: {OTL_URL}") == "link: https://vpn-fra.example.com/otl/***"


def test_bearer_tokens_and_pem_private_keys_in_text_are_masked():
    text = (
        "Authorization: Bearer abc.def-123\n"
        "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----"
    )

    scrubbed = scrub_text(text)

    assert "abc.def-123" not in scrubbed
    assert "MIIE" not in scrubbed


def test_literal_secrets_are_masked_wherever_they_appear():
    assert redact({"echo": f"you sent {TOKEN}"}, secrets=[TOKEN]) == {"echo": f"you sent {MASK}"}
    assert scrub_text(f"x{TOKEN}y, token={TOKEN}.", [TOKEN]) == f"x{MASK}y, token={MASK}."


@pytest.mark.parametrize("secret", ["t", "on", "refused", "x" * (MIN_SECRET_LENGTH - 1)])
def test_short_secret_never_mangles_ordinary_text(secret):
    text = "[Errno 111] Connection refused; the panel is not running"

    assert scrub_text(text, [secret]) == text
    assert redact({"error": text}, secrets=[secret]) == {"error": text}


@pytest.mark.parametrize("secret", ["t", "x" * (MIN_SECRET_LENGTH - 1)])
def test_short_secret_is_masked_where_it_is_the_whole_value(secret):
    assert scrub_text(secret, [secret]) == MASK
    assert redact({"echo": secret, "other": f"{secret}!"}, secrets=[secret]) == {
        "echo": MASK,
        "other": f"{secret}!",
    }


def test_secret_of_the_minimum_length_is_masked_inside_text():
    secret = "k" * MIN_SECRET_LENGTH

    assert scrub_text(f"a{secret}b", [secret]) == f"a{MASK}b"


def test_long_lists_are_shortened():
    assert redact(list(range(60)), max_items=3) == [0, 1, 2, "<57 more items>"]


def test_bytes_and_scalars():
    assert redact(b"\x89PNG") == "<4 bytes>"
    assert redact([1, 2.5, None, True]) == [1, 2.5, None, True]


def test_mask_token_shows_only_a_prefix():
    assert mask_token("abcd1234efgh5678ijkl") == "abcd…"
    assert mask_token("short") == MASK
