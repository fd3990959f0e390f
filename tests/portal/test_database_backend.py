import os

import pytest
from django.db import connection

from tests.services import REQUIRE_SERVICES, service_unavailable


@pytest.mark.services
@pytest.mark.django_db
def test_database_is_postgresql_when_services_are_required():
    if not (REQUIRE_SERVICES or os.environ.get("DATABASE_URL", "").startswith("postgres")):
        service_unavailable("DATABASE_URL does not point at PostgreSQL")

    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        (version,) = cursor.fetchone()

    assert connection.vendor == "postgresql"
    assert version.startswith("PostgreSQL")
