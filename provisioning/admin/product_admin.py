"""Products: the seed's "PUQ VPNcp settings" panel instead of raw JSON, and the VPN-networks tree.

The tree asks every enabled server of the product's group for its networks and licence slots (in
parallel, see :mod:`provisioning.panel_overview`) and shows each ``server → network`` pair as a
checkbox. Ticked pairs are ordered; a hidden ``deploy_order`` field carries the order (written by
``static/portal/product_networks.js``; without JavaScript it keeps the saved order and appends new
ticks). A saved pair that cannot be shown as a live network (panel unreachable, server disabled or
no longer in the group, network gone) is still rendered, ticked, with the reason: saving the form
unchanged never drops it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.html import format_html

from provisioning.admin.common import PORTAL_ADMIN_CSS
from provisioning.licences import product_licence_key_changed, product_licence_status
from provisioning.models import Product, Server, ServerGroup
from provisioning.panel_overview import Outcome, servers_networks
from provisioning.product_settings import (
    DEFAULT_NAME_RULE,
    MAX_MBPS,
    DeployTarget,
    Placement,
    ProductSettings,
)
from provisioning.selectors import (
    NAME_RULE_SAMPLE_CLIENT_ID,
    NAME_RULE_SAMPLE_SERVICE_ID,
    name_rule_sample,
)
from vpnpanel import Network, SystemStatus

SETTINGS_FIELDS = (
    "download_mbps",
    "upload_mbps",
    "client_name_rule",
    "instruction_url",
    "placement",
    "metric_download",
    "metric_upload",
)
NAME_RULE_HELP = (
    "Macros: {client_id} {service_id} {random_digit_N} {random_letter_N} {unixtime} {year} "
    "{month} {day} {hour} {minute} {second}. Outside macros use letters, digits, '_' and '-'. "
    "A name already taken gets -1, -2, … appended."
)


def target_value(target: DeployTarget) -> str:
    return f"{target.server_id}:{target.network}"


def parse_target(value: str) -> DeployTarget | None:
    server_id, sep, network = value.strip().partition(":")
    if not sep or not server_id.isdigit() or not network:
        return None
    return DeployTarget(int(server_id), network)


def ordered_targets(ticked: list[str], order: str) -> list[DeployTarget]:
    """Ticked pairs sorted by their place in ``order``; pairs missing from it keep their order."""
    rank: dict[DeployTarget, int] = {}
    for value in order.split(","):
        target = parse_target(value)
        if target is not None:
            rank.setdefault(target, len(rank))
    targets: list[DeployTarget] = []
    for value in ticked:
        target = parse_target(value)
        if target is not None and target not in targets:
            targets.append(target)
    return sorted(targets, key=lambda target: rank.get(target, len(rank)))


class NameRuleWidget(forms.TextInput):
    """The rule, with its server-side rendering of a sample; the script renders it live."""

    class Media:
        js = ("portal/name_rule_preview.js",)

    def render(self, name, value, attrs=None, renderer=None):
        field_html = super().render(name, value, attrs, renderer)
        sample = name_rule_sample(value or "")
        return format_html(
            '{}<p class="name-rule-preview help" data-name-rule-preview data-client-id="{}" '
            'data-service-id="{}">Example: <code data-preview-output>{}</code>'
            ' <span class="errornote-inline" data-preview-error{}>{}</span></p>',
            field_html,
            NAME_RULE_SAMPLE_CLIENT_ID,
            NAME_RULE_SAMPLE_SERVICE_ID,
            sample or "—",
            "" if sample is None else " hidden",
            "This rule is not valid." if sample is None else "",
        )


class DeployTargetsField(forms.Field):
    """The ticked ``server_id:network`` checkboxes, as posted (the template renders them)."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value: Any) -> list[str]:
        if not value:
            return []
        if not isinstance(value, list | tuple):
            raise ValidationError("Invalid list of server/network pairs.")
        for item in value:
            if parse_target(str(item)) is None:
                raise ValidationError(f"{item!r} is not a server/network pair.")
        return [str(item) for item in value]


class ProductAdminForm(forms.ModelForm):
    download_mbps = forms.IntegerField(
        label="Download limit (Mbit/s)",
        min_value=0,
        max_value=MAX_MBPS,
        initial=0,
        help_text="Per-client cap; 0 = unlimited.",
    )
    upload_mbps = forms.IntegerField(
        label="Upload limit (Mbit/s)",
        min_value=0,
        max_value=MAX_MBPS,
        initial=0,
        help_text="Per-client cap; 0 = unlimited.",
    )
    client_name_rule = forms.CharField(
        label="Client name rule",
        initial=DEFAULT_NAME_RULE,
        max_length=200,
        widget=NameRuleWidget(attrs={"class": "vTextField", "data-name-rule": ""}),
        help_text=NAME_RULE_HELP,
    )
    instruction_url = forms.CharField(
        label="Link to instruction",
        required=False,
        max_length=500,
        widget=forms.URLInput(attrs={"class": "vURLField"}),
        help_text="Shown as a “User manual” button in the client area; empty hides it.",
    )
    license_key = forms.CharField(
        label="Licence key",
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    clear_license_key = forms.BooleanField(label="Remove the stored licence key", required=False)
    metric_download = forms.BooleanField(label="Bandwidth Usage Download (GB)", required=False)
    metric_upload = forms.BooleanField(label="Bandwidth Usage Upload (GB)", required=False)
    placement = forms.ChoiceField(
        choices=[
            (Placement.ORDERED.value, "Ordered: the first deployable pair, top to bottom"),
            (
                Placement.LEAST_FULL.value,
                "Least full: the deployable pair whose server is emptiest",
            ),
        ],
        initial=Placement.ORDERED.value,
        widget=forms.RadioSelect,
    )
    deploy_targets = DeployTargetsField(required=False)
    deploy_order = forms.CharField(required=False, widget=forms.HiddenInput)

    class Meta:
        model = Product
        fields = ("name", "group", "license_key")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.initial.pop("license_key", None)  # write-only, like a server's token
        self.saved_settings, self.saved_settings_error = self._saved_settings()
        for name in SETTINGS_FIELDS:
            value = getattr(self.saved_settings, name)
            self.initial.setdefault(name, value.value if name == "placement" else value)
        saved_targets = list(self.saved_settings.deploy_targets)
        self.initial.setdefault("deploy_targets", [target_value(t) for t in saved_targets])
        self.initial.setdefault("deploy_order", ",".join(target_value(t) for t in saved_targets))
        stored = bool(self.instance.pk and self.instance.license_key)
        self.fields["license_key"].help_text = (
            "A key is stored; leave empty to keep it." if stored else "No key stored."
        )
        if not stored:
            del self.fields["clear_license_key"]

    def _saved_settings(self) -> tuple[ProductSettings, str]:
        if not self.instance.pk:
            return ProductSettings(), ""
        try:
            return self.instance.typed_settings, ""
        except ValidationError as exc:
            return ProductSettings(), "; ".join(exc.messages)

    def current_targets(self) -> list[DeployTarget]:
        """The ticked pairs in order: as posted on a bound form, else as saved."""
        if self.is_bound:
            ticked = self.data.getlist(self.add_prefix("deploy_targets"))
            order = self.data.get(self.add_prefix("deploy_order"), "")
            return ordered_targets(ticked, order)
        return list(self.saved_settings.deploy_targets)

    def clean_license_key(self) -> str:
        stored = self.instance.license_key if self.instance.pk else ""
        key = self.cleaned_data["license_key"]
        if not key:
            key = "" if self.data.get(self.add_prefix("clear_license_key")) else stored
        self.license_key_changed = key != stored
        return key

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        # Always valid JSON on the instance, so that the model's own clean() has nothing to add.
        self.instance.settings = self.saved_settings.to_json()
        targets = ordered_targets(
            cleaned.get("deploy_targets") or [], cleaned.get("deploy_order", "")
        )
        self._check_new_targets(targets, cleaned.get("group"))
        if any(name not in cleaned for name in SETTINGS_FIELDS) or self.has_error("deploy_targets"):
            return cleaned
        data = {
            # Start from what is saved so that a setting this form does not know survives.
            **self.saved_settings.to_json(),
            **{name: cleaned[name] for name in SETTINGS_FIELDS},
            "deploy_targets": [asdict(target) for target in targets],
        }
        try:
            self.instance.settings = ProductSettings.from_json(data).to_json()
        except ValidationError as exc:
            for name, errors in exc.message_dict.items():
                self.add_error(name if name in self.fields else None, errors)
        return cleaned

    def _check_new_targets(self, targets: list[DeployTarget], group: ServerGroup | None) -> None:
        """A newly ticked pair must be on an enabled server of the group; saved ones are kept."""
        saved = set(self.saved_settings.deploy_targets)
        new_ids = {target.server_id for target in targets if target not in saved}
        if not new_ids:
            return
        allowed = set()
        if group is not None:
            allowed = set(
                Server.objects.filter(group=group, enabled=True, pk__in=new_ids).values_list(
                    "pk", flat=True
                )
            )
        for server_id in sorted(new_ids - allowed):
            self.add_error(
                "deploy_targets",
                f"Server #{server_id} is not an enabled server of the product's group.",
            )


# The VPN-networks tree ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TreePair:
    target: DeployTarget
    label: str
    checked: bool
    network: Network | None = None
    note: str = ""

    @property
    def value(self) -> str:
        return target_value(self.target)

    @property
    def protocols(self) -> list[str]:
        return [p.value for p in self.network.enabled_protocols] if self.network else []


@dataclass(frozen=True)
class TreeServer:
    server: Server
    pairs: list[TreePair]
    error: str = ""
    note: str = ""
    status: Outcome[SystemStatus] = field(default_factory=Outcome)
    asked: bool = True


@dataclass(frozen=True)
class NetworkTree:
    group: ServerGroup | None
    servers: list[TreeServer]
    ordered: list[TreePair]
    elsewhere: list[TreePair]

    @property
    def all_unreachable(self) -> bool:
        asked = [node for node in self.servers if node.asked]
        return bool(asked) and all(node.error for node in asked)

    @property
    def has_enabled_servers(self) -> bool:
        return any(node.asked for node in self.servers)


def build_network_tree(group: ServerGroup | None, ticked: list[DeployTarget]) -> NetworkTree:
    if group is None:
        return NetworkTree(None, [], [], [])
    servers = list(group.servers.all())
    reports = {
        report.server.pk: report for report in servers_networks(s for s in servers if s.enabled)
    }
    names = {server.pk: server.name for server in servers}
    outside_ids = {t.server_id for t in ticked} - set(names)
    names |= dict(Server.objects.filter(pk__in=outside_ids).values_list("pk", "name"))

    def label(target: DeployTarget) -> str:
        return f"{names.get(target.server_id, f'server #{target.server_id}')} → {target.network}"

    def kept(target: DeployTarget, note: str) -> TreePair:
        return TreePair(target, label(target), checked=True, note=note)

    ticked_set = set(ticked)
    nodes: list[TreeServer] = []
    for server in servers:
        mine = [t for t in ticked if t.server_id == server.pk]
        report = reports.get(server.pk)
        if report is None:
            if mine:
                pairs = [
                    kept(t, "Saved; the server is disabled, so it was not asked.") for t in mine
                ]
                nodes.append(TreeServer(server, pairs, note="Disabled: not asked.", asked=False))
            continue
        if not report.reachable:
            pairs = [kept(t, "Saved; kept while the panel cannot be reached.") for t in mine]
            nodes.append(
                TreeServer(server, pairs, error=report.networks.error, status=report.status)
            )
            continue
        pairs = []
        for network in report.networks.value or []:
            target = DeployTarget(server.pk, network.name)
            pairs.append(TreePair(target, label(target), target in ticked_set, network))
        listed = {pair.target for pair in pairs}
        pairs += [
            kept(t, "Saved, but the panel no longer lists this network.")
            for t in mine
            if t not in listed
        ]
        nodes.append(TreeServer(server, pairs, status=report.status))
    elsewhere = [
        kept(t, "Saved, but this server is not in the product's group.")
        for t in ticked
        if t.server_id in outside_ids
    ]
    ordered = [TreePair(t, label(t), checked=True) for t in ticked]
    return NetworkTree(group, nodes, ordered, elsewhere)


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    form = ProductAdminForm
    list_display = ("name", "group", "bandwidth", "deploy_pairs", "placement_rule", "updated_at")
    list_filter = ("group",)
    list_select_related = ("group",)
    search_fields = ("name",)
    readonly_fields = ("licence_status",)
    fieldsets = (
        (None, {"fields": ("name", "group")}),
        ("Bandwidth", {"fields": ("download_mbps", "upload_mbps")}),
        ("Client name", {"fields": ("client_name_rule",)}),
        ("Client area", {"fields": ("instruction_url",)}),
        ("Licence", {"fields": ("license_key", "clear_license_key", "licence_status")}),
        ("Metric billing", {"fields": ("metric_download", "metric_upload")}),
        ("Placement", {"fields": ("placement",)}),
    )

    class Media:
        css = PORTAL_ADMIN_CSS
        js = ("portal/product_networks.js",)

    def get_fieldsets(self, request: HttpRequest, obj: Product | None = None):
        hidden = set()
        if obj is None:
            hidden.add("licence_status")
        if obj is None or not obj.license_key:
            hidden.add("clear_license_key")
        return tuple(
            (name, {"fields": tuple(f for f in opts["fields"] if f not in hidden)})
            for name, opts in self.fieldsets
        )

    @admin.display(description="licence status")
    def licence_status(self, product: Product) -> str:
        return product_licence_status(product)

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        if getattr(form, "license_key_changed", False):
            product_licence_key_changed(product=obj)

    @admin.display(description="bandwidth (Mbit/s)")
    def bandwidth(self, product: Product) -> str:
        settings = _typed_or_none(product)
        if settings is None:
            return "invalid settings"
        return f"↓ {settings.download_mbps or '∞'} / ↑ {settings.upload_mbps or '∞'}"

    @admin.display(description="ticked pairs")
    def deploy_pairs(self, product: Product) -> str:
        settings = _typed_or_none(product)
        return "—" if settings is None else str(len(settings.deploy_targets))

    @admin.display(description="placement")
    def placement_rule(self, product: Product) -> str:
        settings = _typed_or_none(product)
        return "—" if settings is None else settings.placement.value

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        form = context["adminform"].form
        group = obj.group if obj is not None else None
        context["network_tree"] = build_network_tree(group, form.current_targets())
        context["settings_form"] = form
        return super().render_change_form(request, context, add, change, form_url, obj)


def _typed_or_none(product: Product) -> ProductSettings | None:
    try:
        return product.typed_settings
    except ValidationError:
        return None
