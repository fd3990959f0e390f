"""Module log: a read-only, searchable, escaped view of every panel call, and its retention."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from provisioning.models import ModuleLogEntry, Service
from provisioning.module_log import module_log_cleanup
from tests.factories import ModuleLogEntryFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:provisioning_modulelogentry_changelist"


def test_detail_shows_request_and_response_as_escaped_json(admin_client, offline_server):
    row = ModuleLogEntryFactory(
        server=offline_server,
        method="POST",
        path="client",
        request={"name": "vpn-1", "password": "***"},
        response={"message": "<script>alert(1)</script>"},
        outcome="error",
        error="<i>Wrong name</i>",
    )

    html = admin_client.get(
        reverse("admin:provisioning_modulelogentry_change", args=[row.pk])
    ).content.decode()

    assert '<pre class="module-log-json">' in html
    assert "&quot;password&quot;: &quot;***&quot;" in html
    assert "<script>alert(1)</script>" not in html
    assert "<i>Wrong name</i>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'name="_save"' not in html


def test_search_finds_rows_by_path_error_and_service_client_name(admin_client, service_factory):
    service: Service = service_factory(remote_name="vpn-findme")
    by_service = ModuleLogEntryFactory(service=service, path="client/vpn-findme")
    by_error = ModuleLogEntryFactory(error="VPN account limit exceeded", outcome="error")
    ModuleLogEntryFactory(path="network")

    def search(term: str) -> set[int]:
        response = admin_client.get(reverse(CHANGELIST), {"q": term})
        return {row.pk for row in response.context["cl"].result_list}

    assert search("findme") == {by_service.pk}
    assert search("limit exceeded") == {by_error.pk}


def test_filters_by_outcome_and_action(admin_client):
    failed = ModuleLogEntryFactory(outcome="error", action="terminate")
    ModuleLogEntryFactory(outcome="ok", action="terminate")
    ModuleLogEntryFactory(outcome="error", action="create")

    response = admin_client.get(
        reverse(CHANGELIST), {"outcome__exact": "error", "action__exact": "terminate"}
    )

    assert [row.pk for row in response.context["cl"].result_list] == [failed.pk]


def service_filter(response):
    [spec] = [spec for spec in response.context["cl"].filter_specs if spec.title == "service"]
    return spec


def test_filters_by_service_without_listing_every_service(admin_client, service_factory):
    mine = service_factory(remote_name="vpn-mine")
    other = service_factory(remote_name="vpn-other")
    failed = ModuleLogEntryFactory(service=mine, outcome="error")
    ModuleLogEntryFactory(service=mine, outcome="ok")
    ModuleLogEntryFactory(service=other, outcome="error")
    ModuleLogEntryFactory(outcome="error")

    unfiltered = admin_client.get(reverse(CHANGELIST))
    response = admin_client.get(
        reverse(CHANGELIST), {"service__id__exact": mine.pk, "outcome__exact": "error"}
    )

    assert service_filter(unfiltered).lookup_choices == []  # no dropdown of every service
    assert [row.pk for row in response.context["cl"].result_list] == [failed.pk]
    cl = response.context["cl"]
    [chosen] = [c for c in service_filter(response).choices(cl) if c["selected"]]
    assert chosen["display"] == f"#{mine.pk} vpn-mine"
    html = response.content.decode()
    assert '<input type="hidden" name="outcome__exact" value="error">' in html  # kept by the box
    assert f'name="service__id__exact" value="{mine.pk}"' in html


def test_service_filter_with_a_bad_or_unknown_number_shows_nothing(admin_client, service_factory):
    ModuleLogEntryFactory(service=service_factory(remote_name="vpn-1"))

    for value, shown in (("abc", "not a service number"), ("999999", "no such service")):
        response = admin_client.get(reverse(CHANGELIST), {"service__id__exact": value})

        assert response.status_code == 200
        assert list(response.context["cl"].result_list) == []
        assert shown in response.content.decode()


def test_service_page_links_to_all_its_panel_calls(admin_client, service_factory):
    service = service_factory(remote_name="vpn-linked")
    rows = {ModuleLogEntryFactory(service=service).pk for _ in range(3)}
    ModuleLogEntryFactory(service=service_factory(remote_name="vpn-unrelated"))

    page = admin_client.get(reverse("admin:provisioning_service_change", args=[service.pk]))
    link = f"{reverse(CHANGELIST)}?service__id__exact={service.pk}"
    listed = admin_client.get(link)

    assert f'href="{link}">see all</a>' in page.content.decode()
    assert {row.pk for row in listed.context["cl"].result_list} == rows


def test_nobody_adds_or_deletes_log_rows_by_hand(admin_client):
    row = ModuleLogEntryFactory()

    assert admin_client.get(reverse("admin:provisioning_modulelogentry_add")).status_code == 403
    delete_url = reverse("admin:provisioning_modulelogentry_delete", args=[row.pk])
    assert admin_client.post(delete_url, {"post": "yes"}).status_code == 403
    assert ModuleLogEntry.objects.filter(pk=row.pk).exists()


def test_cleanup_deletes_only_rows_older_than_the_retention_in_batches(settings):
    settings.MODULE_LOG_RETENTION_DAYS = 30
    now = timezone.now()
    old = [ModuleLogEntryFactory(created_at=now - timedelta(days=31, minutes=i)) for i in range(5)]
    recent = ModuleLogEntryFactory(created_at=now - timedelta(days=29))

    deleted = module_log_cleanup(batch_size=2)

    assert deleted == len(old)
    assert list(ModuleLogEntry.objects.values_list("pk", flat=True)) == [recent.pk]


def test_cleanup_takes_an_explicit_age_and_refuses_nonsense():
    ModuleLogEntryFactory(created_at=timezone.now() - timedelta(days=3))

    assert module_log_cleanup(older_than_days=5) == 0
    assert module_log_cleanup(older_than_days=2) == 1
    with pytest.raises(ValueError, match="at least one day"):
        module_log_cleanup(older_than_days=0)
