"""Staff's servers (panels) in the REST API, under /api/v1/staff/servers/.

The panel's API token is write-only, as in the admin: accepted on create and update, never in
an answer (``has_api_token`` says whether one is stored). Every rule of the admin's server
form holds here because it is that form that validates and saves: the token's characters and
length, a host name or an IP address, and a new address needs the token entered again (the
stored token is only ever sent to the address it was entered for).
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db import transaction
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from portal.core.api.permissions import IsStaffWithModelPermission
from portal.core.audit import ADDITION, CHANGE, admin_log
from provisioning.admin.server_admin import ServerAdminForm
from provisioning.models import Server, ServerGroup
from provisioning.selectors import staff_servers
from vpnpanel.redaction import MIN_SECRET_LENGTH

TAGS = ["staff: servers"]
#: The admin form's field names where the API's differ.
FORM_NAMES = {"group_id": "group"}
API_NAMES = {"group": "group_id", "__all__": "non_field_errors"}


class StaffServerOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    group_id = serializers.IntegerField(allow_null=True)
    group_name = serializers.CharField(source="group.name", allow_null=True, default=None)
    hostname = serializers.CharField()
    ip_address = serializers.IPAddressField(allow_null=True)
    port = serializers.IntegerField(allow_null=True, help_text="Null: 443 (secure) or 80.")
    secure = serializers.BooleanField()
    has_api_token = serializers.SerializerMethodField()
    max_accounts = serializers.IntegerField(allow_null=True, help_text="The local account cap.")
    enabled = serializers.BooleanField()
    live_services = serializers.IntegerField(source="live_service_count")
    reconciled_at = serializers.DateTimeField(allow_null=True)
    reconciliation_complete = serializers.BooleanField()
    reconciliation_summary = serializers.CharField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def get_has_api_token(self, server: Server) -> bool:
        return bool(server.api_token)


class StaffServerInput(serializers.Serializer):
    """A server as created; on update (PATCH) every field is optional and an empty or missing
    ``api_token`` keeps the stored one — unless the address changes."""

    name = serializers.CharField(max_length=100)
    group_id = serializers.PrimaryKeyRelatedField(
        queryset=ServerGroup.objects.all(), allow_null=True, default=None
    )
    hostname = serializers.CharField(max_length=253, allow_blank=True, default="")
    ip_address = serializers.IPAddressField(allow_null=True, default=None)
    port = serializers.IntegerField(min_value=1, max_value=65535, allow_null=True, default=None)
    secure = serializers.BooleanField(default=True)
    api_token = serializers.CharField(
        write_only=True,
        allow_blank=True,
        default="",
        trim_whitespace=True,
        max_length=4096,
        style={"input_type": "password"},
        help_text=f"Bearer token from the panel's Profile → API Tokens (at least "
        f"{MIN_SECRET_LENGTH} characters). Write-only.",
    )
    max_accounts = serializers.IntegerField(min_value=0, allow_null=True, default=None)
    enabled = serializers.BooleanField(default=True)


class StaffServerFilter(django_filters.FilterSet):
    class Meta:
        model = Server
        fields = ["enabled", "secure", "group", "reconciliation_complete"]


def _server(pk: int) -> Server:
    return get_object_or_404(staff_servers(), pk=pk)


def _shown(pk: int, status_code: int = status.HTTP_200_OK) -> Response:
    return Response(StaffServerOutput(_server(pk)).data, status=status_code)


def _saved(server: Server | None, given: dict[str, Any], actor: Any) -> Server:
    """``given`` over the server's stored fields (none for a new one), validated and saved by
    the admin's form, with the admin's history row; the form's errors as a 400."""
    data = {} if server is None else _form_values(server)
    data.update({FORM_NAMES.get(name, name): value for name, value in given.items()})
    if isinstance(data.get("group"), ServerGroup):
        data["group"] = data["group"].pk
    form = ServerAdminForm(
        data={name: "" if value is None else value for name, value in data.items()},
        instance=server,
    )
    if not form.is_valid():
        raise serializers.ValidationError(
            {API_NAMES.get(name, name): errors for name, errors in form.errors.items()}
        )
    changed = [
        API_NAMES.get(name, name)
        for name in form.changed_data
        if name != "api_token" or given.get("api_token")
    ]
    with transaction.atomic():
        saved = form.save()
        if server is None:
            admin_log(actor=actor, obj=saved, flag=ADDITION, message=[{"added": {}}])
        elif changed:
            admin_log(
                actor=actor, obj=saved, flag=CHANGE, message=[{"changed": {"fields": changed}}]
            )
    return saved


def _form_values(server: Server) -> dict[str, Any]:
    """The stored fields as the form takes them; the token left out (empty keeps it)."""
    values = {name: getattr(server, name) for name in ServerAdminForm.Meta.fields}
    values["group"] = server.group_id
    values["api_token"] = ""
    return values


class StaffServersApi(ListAPIView):
    """GET lists (view permission of servers), POST adds a panel (add permission)."""

    permission_classes = [IsStaffWithModelPermission]
    serializer_class = StaffServerOutput
    filterset_class = StaffServerFilter

    def get_queryset(self):
        return staff_servers()

    @extend_schema(tags=TAGS, summary="Servers (panels)")
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        tags=TAGS,
        summary="Add a server",
        description="The API token is required here and never answered.",
        request=StaffServerInput,
        responses={201: StaffServerOutput},
    )
    def post(self, request: Request) -> Response:
        given = StaffServerInput(data=request.data)
        given.is_valid(raise_exception=True)
        server = _saved(None, given.validated_data, request.user)
        return _shown(server.pk, status.HTTP_201_CREATED)


class StaffServerApi(APIView):
    """One server: GET (view permission), PATCH (change permission)."""

    permission_classes = [IsStaffWithModelPermission]
    staff_model = Server

    @extend_schema(tags=TAGS, summary="One server", responses=StaffServerOutput)
    def get(self, request: Request, pk: int) -> Response:
        return _shown(pk)

    @extend_schema(
        tags=TAGS,
        summary="Change a server",
        description="A new host name, IP address, port or scheme needs the API token again.",
        request=StaffServerInput,
        responses=StaffServerOutput,
    )
    def patch(self, request: Request, pk: int) -> Response:
        server = _server(pk)
        given = StaffServerInput(data=request.data, partial=True)
        given.is_valid(raise_exception=True)
        _saved(server, given.validated_data, request.user)
        return _shown(pk)
