import pytest
from cryptography.fernet import Fernet
from django.db import connection
from django.test import override_settings

from portal.core import crypto
from provisioning.models import Server
from tests.factories import ServerFactory

TOKEN = "panel-token-4f9c2b7e1d"


def _raw_token_column(server: Server) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT api_token FROM provisioning_server WHERE id = %s", [server.pk])
        return cursor.fetchone()[0]


@pytest.fixture
def server(db) -> Server:
    """A panel at vpn-fra.example.com on the default port over HTTPS."""
    return ServerFactory(
        name="fra", hostname="vpn-fra.example.com", port=None, secure=True, api_token=TOKEN
    )


def test_stored_token_is_ciphertext_that_decrypts_to_the_token(server):
    raw = _raw_token_column(server)

    assert TOKEN not in raw
    assert crypto.decrypt(raw) == TOKEN
    assert Server.objects.get(pk=server.pk).api_token == TOKEN


def test_token_stays_readable_after_a_new_key_is_put_first(server):
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    with override_settings(FIELD_ENCRYPTION_KEYS=[old_key]):
        server.save()
    with override_settings(FIELD_ENCRYPTION_KEYS=[new_key, old_key]):
        assert Server.objects.get(pk=server.pk).api_token == TOKEN
        rotated = crypto.rotate(_raw_token_column(server))
    with override_settings(FIELD_ENCRYPTION_KEYS=[new_key]):
        assert crypto.decrypt(rotated) == TOKEN


def test_unknown_key_gives_a_clear_error_not_garbage(server):
    with (
        override_settings(FIELD_ENCRYPTION_KEYS=[Fernet.generate_key().decode()]),
        pytest.raises(crypto.DecryptionError, match="cannot be decrypted"),
    ):
        Server.objects.get(pk=server.pk)


def test_admin_server_form_never_renders_the_token(admin_client, server):
    response = admin_client.get(f"/admin/provisioning/server/{server.pk}/change/")

    assert response.status_code == 200
    assert TOKEN not in response.content.decode()
    assert _raw_token_column(server) not in response.content.decode()


def test_admin_edit_with_empty_token_keeps_the_stored_one(admin_client, server):
    response = admin_client.post(
        f"/admin/provisioning/server/{server.pk}/change/",
        {"name": "fra-2", "hostname": "vpn-fra.example.com", "secure": "on", "api_token": "",
         "enabled": "on"},
    )  # fmt: skip

    assert response.status_code == 302
    server.refresh_from_db()
    assert server.name == "fra-2"
    assert server.api_token == TOKEN


def test_admin_refuses_a_token_with_a_line_break(admin_client, server):
    response = admin_client.post(
        f"/admin/provisioning/server/{server.pk}/change/",
        {"name": "fra", "hostname": "vpn-fra.example.com", "secure": "on",
         "api_token": "abc\r\ndef", "enabled": "on"},
    )  # fmt: skip

    assert response.status_code == 200
    assert "line breaks" in response.content.decode()
    server.refresh_from_db()
    assert server.api_token == TOKEN
