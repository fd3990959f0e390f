from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("billing", "0003_renewals_and_dunning")]

    operations = []
