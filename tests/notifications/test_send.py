"""``send``: the portal's emails from templates, HTML escaped and branded, labelled for the record,
and sent once per once key however often asked."""

import pytest
from django.core import mail

from portal.core.models import Branding
from portal.notifications.email import send
from portal.notifications.models import EmailRecord
from portal.notifications.tasks import deliver_email

pytestmark = pytest.mark.django_db

WELCOME = {
    "customer_name": "Carol",
    "plan": "VPN <b>100</b>",
    "client_name": "vpn-7-12-abcd",
    "protocols": ["WireGuard", "OpenVPN"],
    "service_url": "https://portal.example.com/services/12/",
}


@pytest.fixture
def branding(private_cache) -> Branding:
    return Branding.objects.create(
        shop_name="Acme <VPN>", primary_colour="#aa3300", support_email="help@acme.example"
    )


def test_the_html_part_is_escaped_and_branded_and_the_text_part_is_plain(sent_tasks, branding):
    send(kind="welcome", to="carol@example.com", template="welcome", context=WELCOME)
    deliver_email.apply(args=[EmailRecord.objects.get().pk])

    [message] = mail.outbox
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert "VPN &lt;b&gt;100&lt;/b&gt;" in html
    assert "<b>100</b>" not in html
    assert "Acme &lt;VPN&gt;" in html
    assert "background:#aa3300" in html
    assert 'href="https://portal.example.com/services/12/"' in html
    assert "http" not in html.replace("https://portal.example.com/services/12/", "")
    assert "Plan: VPN <b>100</b>" in message.body
    assert "Questions? Write to help@acme.example" in message.body
    assert message.subject == "Your VPN is ready: VPN <b>100</b>"
    assert message.from_email == '"Acme <VPN>" <webmaster@localhost>'
    assert message.reply_to == ["help@acme.example"]


def test_a_colour_that_is_not_rrggbb_never_reaches_the_css(sent_tasks, private_cache):
    breaks_out_of_the_rule = "red;}*{"  # seven characters: fits the column, not #rrggbb
    Branding.objects.create(primary_colour=breaks_out_of_the_rule)

    send(kind="welcome", to="carol@example.com", template="welcome", context=WELCOME)
    deliver_email.apply(args=[EmailRecord.objects.get().pk])

    html = mail.outbox[0].alternatives[0][0]
    assert breaks_out_of_the_rule not in html
    assert "background:#1f5f99" in html


def test_kind_and_object_label_the_record(sent_tasks, customer):
    send(kind="welcome", to="carol@example.com", template="welcome", context=WELCOME, obj=customer)

    record = EmailRecord.objects.get()
    assert (record.kind, record.object_type, record.object_id) == (
        "welcome",
        "accounts.customer",
        str(customer.pk),
    )
    assert record.object_label == f"accounts.customer {customer.pk}"


def test_a_once_key_sends_once_however_often_asked(sent_tasks, django_capture_on_commit_callbacks):
    def welcome() -> bool:
        return send(
            kind="welcome",
            to="carol@example.com",
            template="welcome",
            context=WELCOME,
            once_key="welcome:service:12",
        )

    with django_capture_on_commit_callbacks(execute=True):
        assert welcome() is True
        assert welcome() is False

    assert EmailRecord.objects.count() == 1
    assert len(sent_tasks.named("notifications.deliver_email")) == 1
