from django.db import migrations


def load(apps, schema_editor):
    from yipanqi.assistance.kinds import load_kinds

    load_kinds(apps.get_model("assistance", "RequestKind"))


class Migration(migrations.Migration):
    dependencies = [("assistance", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
