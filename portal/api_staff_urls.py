"""The staff endpoints of the REST API, under /api/v1/staff/ (docs/api.md)."""

urlpatterns: list = []
