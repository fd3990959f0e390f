"""The sent-mail log: read-only, with an action to send failed messages again."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from portal.notifications import payload, services
from portal.notifications.models import EmailRecord

WITHHELD = (
    "Not shown: it holds a key to the customer's account (a reset or confirmation link, or a "
    "sign-in code)."
)


@admin.register(EmailRecord)
class EmailRecordAdmin(admin.ModelAdmin):
    list_display = (
        "to",
        "subject",
        "kind",
        "about",
        "status",
        "attempts",
        "created_at",
        "sent_at",
    )
    list_filter = ("status", "kind", ("created_at", admin.DateFieldListFilter))
    search_fields = ("to", "subject", "=object_id")
    search_help_text = "Recipient or subject (part of it), or the exact id of the object."
    date_hierarchy = "created_at"
    fields = (
        "to",
        "subject",
        "kind",
        "about",
        "status",
        "attempts",
        "last_error",
        "created_at",
        "due_at",
        "sent_at",
        "text_body",
    )
    readonly_fields = fields
    actions = ("resend_failed",)

    class Media:
        css = {"all": ("notifications/admin.css",)}

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: EmailRecord | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: EmailRecord | None = None) -> bool:
        return False  # the record of what was sent is history

    def has_resend_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("notifications.resend_emailrecord")

    @admin.action(description="Send the selected failed emails again", permissions=["resend"])
    def resend_failed(self, request: HttpRequest, queryset: QuerySet[EmailRecord]) -> None:
        chosen = list(queryset)
        resent = sum(services.email_resend(record=record) for record in chosen)
        if resent:
            self.message_user(request, f"{resent} email(s) queued to be sent again.")
        if skipped := len(chosen) - resent:
            self.message_user(
                request,
                f"{skipped} email(s) left as they are: only failed emails are sent again.",
                messages.WARNING,
            )

    @admin.display(description="about")
    def about(self, record: EmailRecord) -> str | SafeString:
        if not record.object_type:
            return "—"
        app_label, _, model = record.object_type.partition(".")
        try:
            url = reverse(f"admin:{app_label}_{model}_change", args=[record.object_id])
        except NoReverseMatch:
            return record.object_label
        return format_html('<a href="{}">{}</a>', url, record.object_label)

    @admin.display(description="text body")
    def text_body(self, record: EmailRecord) -> str | SafeString:
        if record.body_withheld:
            return WITHHELD
        body = payload.text_body(record.message)
        return format_html('<pre class="email-body">{}</pre>', body) if body else "—"

    def get_queryset(self, request: HttpRequest) -> QuerySet[EmailRecord]:
        return super().get_queryset(request).defer("message")
