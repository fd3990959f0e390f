"""Staff roles as groups (portal/accounts/roles.py): made by a migration, kept in line after
every migrate, and a *support* user can look but not touch anything in the admin: every model's
add, change and delete pages, every button page an app's admin adds (found from its get_urls),
every bulk action and list edit — each refused, and the whole database as it was."""

from __future__ import annotations

import importlib
import uuid
from datetime import date
from decimal import Decimal

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core.management.sql import emit_post_migrate_signal
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.urls import NoReverseMatch, URLPattern, reverse

from portal.accounts.models import ApiToken
from portal.accounts.roles import BILLING, ROLES, SUPERADMIN, SUPPORT, role_grants
from portal.accounts.services import api_token_create
from portal.billing.models import (
    BillingEvent,
    CancellationRequest,
    CreditEntry,
    Gateway,
    Invoice,
    Payment,
    PaymentRefund,
    PlanChange,
    RefundMethod,
    RefundStatus,
    Renewal,
    StripeCheckout,
    StripeCheckoutStatus,
    StripeEvent,
    Subscription,
    TaxRate,
    UsageCharge,
    UsagePricing,
)
from portal.billing.services import LineSpec, invoice_create, payment_record
from portal.core.models import Branding
from portal.notifications.models import EmailRecord
from portal.store.models import Coupon, Order, Plan
from provisioning.models import (
    ModuleLogEntry,
    Product,
    ReconciliationFinding,
    Server,
    ServerGroup,
    Service,
    ServiceAction,
    ServiceStatus,
)
from tests.factories import (
    CouponFactory,
    EmailRecordFactory,
    ModuleLogEntryFactory,
    PlanFactory,
    PlanPriceFactory,
    ReconciliationFindingFactory,
    ServerFactory,
    ServiceFactory,
    StaffFactory,
)
from tests.snapshots import changed_tables, database_snapshot

pytestmark = pytest.mark.django_db

SUPPORT_PERMISSIONS = {
    "provisioning.view_service",
    "provisioning.view_modulelogentry",
    "provisioning.view_reconciliationfinding",
    "accounts.view_customer",
}
#: The admin's added pages that only read: a POST changes nothing there (405, or the same page
#: as a GET). Every other page an app's admin adds answers a support user 403.
READ_ONLY_ENDPOINTS = {
    "provisioning_service_status": 405,
    "provisioning_service_attention": 200,
    "provisioning_service_connection_status": 405,
}
#: Every field the admin's forms and confirmation pages ask for, each valid, sent at once: a
#: page that let a support user through would act on them.
FORM_DATA = {
    "post": "yes",
    "confirm": "yes",
    "amount": "1.00",
    "reference": "by-support",
    "reason": "by support",
    "to_credit_balance": "on",
    "password1": "n3w-Pass!x",
    "password2": "n3w-Pass!x",
    "key": "8f1e0c2a-3a53-4b8e-9d0c-0d1f4f4f1b11",
    "method": "credit",
}


def permissions_of(group: Group) -> set[str]:
    return {
        f"{app}.{codename}"
        for app, codename in group.permissions.values_list("content_type__app_label", "codename")
    }


def all_permissions() -> set[str]:
    return {
        f"{app}.{codename}"
        for app, codename in Permission.objects.values_list("content_type__app_label", "codename")
    }


def test_the_roles_are_groups_with_their_permissions():
    groups = {group.name: permissions_of(group) for group in Group.objects.all()}

    assert groups[SUPPORT] == SUPPORT_PERMISSIONS
    assert groups[SUPERADMIN] == all_permissions()
    assert {"accounts.view_customer", "accounts.change_customer"} <= groups[BILLING]
    assert {p for p in all_permissions() if p.startswith("billing.")} <= groups[BILLING]
    assert not {p for p in groups[BILLING] if p.startswith("provisioning.change_")}


def test_support_may_only_view():
    granted = {p for p in all_permissions() if role_grants(SUPPORT, p)}

    assert all(p.split(".")[1].startswith("view_") for p in granted)


def test_the_data_migration_makes_the_groups():
    Group.objects.filter(name__in=list(ROLES)).delete()
    migration = importlib.import_module("portal.accounts.migrations.0004_staff_roles")
    state = MigrationExecutor(connection).loader.project_state(("accounts", "0004_staff_roles"))

    migration.apply_roles(state.apps, None)

    assert permissions_of(Group.objects.get(name=SUPPORT)) == SUPPORT_PERMISSIONS


def test_migrate_puts_a_later_apps_permissions_in_their_role_and_restores_the_rest():
    support = Group.objects.get(name=SUPPORT)
    support.permissions.remove(Permission.objects.get(codename="view_service"))
    support.permissions.add(Permission.objects.get(codename="delete_service"))
    invoice_type = ContentType.objects.create(app_label="billing", model="laterinvoice")
    Permission.objects.create(
        content_type=invoice_type, codename="change_laterinvoice", name="Can change"
    )

    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")

    assert permissions_of(support) == SUPPORT_PERMISSIONS
    assert "billing.change_laterinvoice" in permissions_of(Group.objects.get(name=BILLING))
    assert "billing.change_laterinvoice" in permissions_of(Group.objects.get(name=SUPERADMIN))


# A support user in the admin ----------------------------------------------------------------------


@pytest.fixture
def support_user():
    user = StaffFactory(is_superuser=False)
    user.groups.add(Group.objects.get(name=SUPPORT))
    return user


@pytest.fixture
def support_client(support_user) -> Client:
    client = Client()
    client.force_login(support_user)
    return client


@pytest.fixture
def rows(customer) -> dict[type, object]:
    """One row of each model in the admin, so that every page that takes an object is asked
    about a real one: an unpaid and a paid invoice (with its payment, order, subscription,
    credit and audit rows), the provisioning rows behind them, and the accounts' own."""
    service = ServiceFactory(
        customer=customer,
        server=ServerFactory(),
        network="office",
        remote_name="vpn-support",
        status=ServiceStatus.FAILED,
        needs_attention=True,
        pending_action=ServiceAction.CREATE,
    )
    plan = PlanFactory(product=service.product)
    PlanPriceFactory(plan=plan)
    unpaid, paid = (
        invoice_create(
            customer=customer,
            lines=[
                LineSpec(
                    description="VPN 100",
                    unit_price=Decimal("9.99"),
                    product=service.product,
                    cycle="monthly",
                )
            ],
            actor=None,
        )
        for _ in range(2)
    )
    payment = payment_record(
        invoice=paid, amount=paid.total, gateway=Gateway.BANK_TRANSFER, reference="t-1", actor=None
    )
    TOTP.activate(customer.user, generate_totp_secret())
    return {
        Service: service,
        Server: service.server,
        ServerGroup: service.server.group,
        Product: service.product,
        ReconciliationFinding: ReconciliationFindingFactory(server=service.server),
        ModuleLogEntry: ModuleLogEntryFactory(service=service, server=service.server),
        type(customer): customer,
        type(customer.user): customer.user,
        Group: Group.objects.get(name=SUPPORT),
        EmailAddress: EmailAddress.objects.create(
            user=customer.user, email=customer.user.email, verified=True, primary=True
        ),
        Authenticator: Authenticator.objects.get(user=customer.user),
        Branding: Branding.objects.get_or_create(pk=1)[0],
        ApiToken: api_token_create(user=customer.user, name="support test")[0],
        Plan: plan,
        Coupon: CouponFactory(),
        Order: Order.objects.create(customer=customer, checkout_token=uuid.uuid4(), invoice=unpaid),
        Invoice: unpaid,
        Payment: payment,
        PaymentRefund: PaymentRefund.objects.create(
            payment=payment,
            amount=Decimal("1.00"),
            method=RefundMethod.CREDIT,
            status=RefundStatus.FAILED,
            idempotency_key="t-refund",
        ),
        StripeCheckout: StripeCheckout.objects.create(
            invoice=unpaid,
            amount=unpaid.total,
            currency=unpaid.currency,
            amount_minor=999,
            idempotency_key="t-checkout",
            status=StripeCheckoutStatus.EXPIRED,
        ),
        StripeEvent: StripeEvent.objects.create(event_id="evt_t", type="checkout.session.expired"),
        Subscription: Subscription.objects.get(),
        Renewal: Renewal.objects.create(
            subscription=Subscription.objects.get(),
            period_start=date(2027, 2, 28),
            period_end=date(2027, 3, 31),
            invoice=unpaid,
        ),
        CreditEntry: CreditEntry.objects.create(
            customer=customer, amount=Decimal("5"), reason="gift"
        ),
        BillingEvent: BillingEvent.objects.filter(invoice=paid).first(),
        CancellationRequest: CancellationRequest.objects.create(
            subscription=Subscription.objects.get(), when="immediately", terminate_on=date.today()
        ),
        TaxRate: TaxRate.objects.create(country="DE", rate=Decimal("19.00")),
        UsagePricing: UsagePricing.objects.create(product=service.product),
        UsageCharge: UsageCharge.objects.create(
            subscription=Subscription.objects.get(),
            year=2027,
            month=1,
            download_bytes=0,
            upload_bytes=0,
            read_at=paid.issued_at,
            amount=Decimal(0),
        ),
        PlanChange: PlanChange.objects.create(
            subscription=Subscription.objects.get(),
            from_product=service.product,
            from_price=Decimal("9.99"),
            to_product=service.product,
            to_price=Decimal("19.99"),
            description="VPN 500 (monthly)",
            period_start=date(2027, 1, 31),
            period_end=date(2027, 2, 28),
            days_left=10,
            days_in_period=28,
            credit=Decimal("3.57"),
            charge=Decimal("7.14"),
            status="cancelled",
        ),
        EmailRecord: EmailRecordFactory(),
    }


def test_every_model_in_the_admin_has_a_row_to_be_asked_about(rows):
    assert set(admin.site._registry) - set(rows) == set()
    assert all(row is not None and row.pk is not None for row in rows.values())


@pytest.mark.parametrize(
    "url",
    [
        "/admin/",
        "/admin/provisioning/service/",
        "/admin/provisioning/modulelogentry/",
        "/admin/accounts/customer/",
        "/admin/provisioning/reconciliationfinding/",
    ],
)
def test_support_opens_the_lists(support_client, rows, url):
    assert support_client.get(url).status_code == 200


def test_support_opens_a_service_read_only(support_client, rows):
    page = support_client.get(f"/admin/provisioning/service/{rows[Service].pk}/change/")

    assert page.status_code == 200
    content = page.content.decode()
    assert "vpn-support" in content
    assert "/action/" not in content
    assert "/retry/" not in content


def model_admin_urls(rows) -> list[tuple[str, str]]:
    """(method, url) of every add, change and delete page of every model in the admin."""
    urls = []
    for model in admin.site._registry:
        info = (model._meta.app_label, model._meta.model_name)
        pk = rows[model].pk
        urls += [
            ("get", f"admin:{info[0]}_{info[1]}_add", ()),
            ("post", f"admin:{info[0]}_{info[1]}_add", ()),
        ]
        urls += [("post", f"admin:{info[0]}_{info[1]}_change", (pk,))]
        urls += [("get", f"admin:{info[0]}_{info[1]}_delete", (pk,))]
        urls += [("post", f"admin:{info[0]}_{info[1]}_delete", (pk,))]
    found = []
    for method, name, args in urls:
        try:
            found.append((method, reverse(name, args=args)))
        except NoReverseMatch:
            continue
    return found


def test_support_gets_403_on_every_add_change_and_delete(support_client, rows):
    before = database_snapshot()
    answers = {
        (method, url): getattr(support_client, method)(url, FORM_DATA).status_code
        for method, url in model_admin_urls(rows)
    }

    assert len(answers) >= 4 * len(admin.site._registry)
    assert {key: status for key, status in answers.items() if status != 403} == {}
    assert changed_tables(before, database_snapshot()) == []


def admin_endpoints() -> list[tuple[str, URLPattern, type]]:
    """(name, pattern, model) of every page a model's admin adds to Django's own (buttons,
    confirmation pages, JSON), in every app."""
    endpoints = []
    for model, model_admin in admin.site._registry.items():
        info = f"{model._meta.app_label}_{model._meta.model_name}"
        standard = {f"{info}_{page}" for page in ("changelist", "add", "change", "delete")}
        standard.add(f"{info}_history")
        for pattern in model_admin.get_urls():
            if isinstance(pattern, URLPattern) and pattern.name not in standard | {None}:
                endpoints.append((pattern.name, pattern, model))
    return endpoints


def endpoint_urls(name: str, pattern: URLPattern, model: type) -> list[str]:
    """The endpoint's URL for every row of its model (every action, where it takes one)."""
    arguments = [key for key in pattern.pattern.converters if key != "action"]
    actions = ServiceAction.values if "action" in pattern.pattern.converters else [None]
    pks = list(model._default_manager.values_list("pk", flat=True)) if arguments else [None]
    assert pks, f"{name}: no {model.__name__} in the test's rows to ask about"
    urls = []
    for pk in pks:
        for action in actions:
            kwargs = dict.fromkeys(arguments, pk)
            if action is not None:
                kwargs["action"] = action
            urls.append(reverse(f"admin:{name}", kwargs=kwargs))
    return urls


def test_every_page_the_admins_add_is_found():
    names = {name for name, _, _ in admin_endpoints()}

    assert {
        "provisioning_service_action",
        "provisioning_service_retry",
        "provisioning_service_refresh_usage",
        "provisioning_service_clear_attention",
        "provisioning_server_test_connection",
        "provisioning_reconciliationfinding_delete_orphan",
        "billing_invoice_pay",
        "billing_invoice_cancel",
        "billing_invoice_credit_note",
        "billing_payment_refund",
        "auth_user_password_change",
    } <= names
    assert set(READ_ONLY_ENDPOINTS) <= names


def acceptable(name: str, method: str) -> set[int]:
    """What a support user may be answered: 403, or 405 to a GET of a page that only takes
    POST; a page that only reads answers as it would anyone (a service's live status is 409
    while it is not on a panel)."""
    if name in READ_ONLY_ENDPOINTS:
        return {READ_ONLY_ENDPOINTS[name]} if method == "post" else {200, 409}
    return {403} if method == "post" else {403, 405}


@pytest.mark.parametrize("method", ["get", "post"])
def test_support_gets_403_on_every_page_the_admins_add(support_client, rows, method):
    endpoints = admin_endpoints()
    before = database_snapshot()

    answers = {
        url: (name, getattr(support_client, method)(url, FORM_DATA).status_code)
        for name, pattern, model in endpoints
        for url in endpoint_urls(name, pattern, model)
    }

    actions = len(ServiceAction.values) * Service.objects.count()
    assert len([url for url in answers if "/action/" in url]) == actions
    assert len([url for url in answers if url.startswith("/admin/billing/invoice/")]) >= 6
    assert {
        url: (name, status)
        for url, (name, status) in answers.items()
        if status not in acceptable(name, method)
    } == {}
    assert changed_tables(before, database_snapshot()) == []


def test_support_is_offered_no_bulk_action(support_client, rows):
    for url in ("/admin/provisioning/service/", "/admin/accounts/customer/"):
        page = support_client.get(url).content.decode()
        assert 'name="action"' not in page


def test_support_runs_no_bulk_action_and_saves_no_list_edit(support_user, support_client, rows):
    """Sent anyway, by hand: every action of every list (delete included) on every row, and a
    list edit; refused where support may not even look, and acting on nothing where it may."""
    before = database_snapshot()
    answers, expected = {}, {}
    for model, model_admin in admin.site._registry.items():
        info = (model._meta.app_label, model._meta.model_name)
        url = reverse("admin:{}_{}_changelist".format(*info))
        viewable = support_user.has_perm("{}.view_{}".format(*info))
        selected = list(model._default_manager.values_list("pk", flat=True))
        for action in {"delete_selected", *(model_admin.actions or ())}:
            data = {"action": action, "_selected_action": selected, "index": "0", **FORM_DATA}
            answers[(url, action)] = support_client.post(url, data, follow=True).status_code
            expected[(url, action)] = 200 if viewable else 403
        edit = {"_save": "Save", "form-TOTAL_FORMS": "0", "form-INITIAL_FORMS": "0"}
        answers[(url, "_save")] = support_client.post(url, edit, follow=True).status_code
        expected[(url, "_save")] = 200 if viewable and not model_admin.list_editable else 403

    assert answers == expected
    assert {url for (url, _), status in answers.items() if status == 200} == {
        "/admin/accounts/customer/",
        "/admin/provisioning/service/",
        "/admin/provisioning/modulelogentry/",
        "/admin/provisioning/reconciliationfinding/",
    }
    assert changed_tables(before, database_snapshot()) == []
