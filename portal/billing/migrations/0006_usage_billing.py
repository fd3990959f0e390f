from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("billing", "0005_plan_changes")]

    operations = []
