from django.contrib import admin

from portal.accounts.models import Customer


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ("id", "display_name", "user", "created_at")
    list_select_related = ("user",)
    search_fields = ("user__username", "user__email", "company_name")
    raw_id_fields = ("user",)
