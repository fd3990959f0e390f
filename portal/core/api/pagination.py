"""Page-number pagination: ``?page=2&page_size=50``, sizes from settings (docs/api.md)."""

from __future__ import annotations

from django.conf import settings
from rest_framework.pagination import PageNumberPagination


class ApiPagination(PageNumberPagination):
    """``{"count", "next", "previous", "results"}``; ``page_size`` up to API_MAX_PAGE_SIZE."""

    page_size_query_param = "page_size"

    def get_page_size(self, request) -> int | None:
        self.page_size = settings.API_PAGE_SIZE
        self.max_page_size = settings.API_MAX_PAGE_SIZE
        return super().get_page_size(request)
