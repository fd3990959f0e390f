"""Every model change ships with its migration: a model edited without one fails here, not on a
production deploy."""

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_no_model_change_is_missing_its_migration(capsys):
    try:
        call_command("makemigrations", "--check", "--dry-run", verbosity=1)
    except SystemExit:
        pytest.fail(f"Models changed without a migration:\n{capsys.readouterr().out}")
