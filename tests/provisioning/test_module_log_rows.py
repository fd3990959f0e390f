"""Every panel call's row is stored, whatever the panel answered: PostgreSQL text and jsonb take
no NUL character, and a garbage answer full of them must not lose its row (the one an admin needs
to see why a create failed)."""

import uuid

import pytest

from provisioning.models import ModuleLogEntry
from provisioning.module_log import ModuleLogRecorder
from tests.factories import ServerFactory
from vpnpanel import CallRecord

pytestmark = pytest.mark.django_db


def test_a_garbage_answer_with_nul_characters_is_stored():
    server = ServerFactory()
    record = CallRecord(
        panel=server.name,
        method="POST",
        path="client",
        status=200,
        duration_ms=3.0,
        request={"name": "vpn-\x00x"},
        response="\x00\xffnot json\x00",
        outcome="error",
        error="answered with a non-JSON answer: '\x00not json'",
        attempt=1,
    )

    ModuleLogRecorder(server=server, service=None, action="create", correlation_id=uuid.uuid4())(
        record
    )

    row = ModuleLogEntry.objects.get(server=server)
    assert row.response == "\ufffd\xffnot json\ufffd"
    assert row.request == {"name": "vpn-\ufffdx"}
    assert "\x00" not in row.error
    assert row.error.endswith("not json'")
