"""Give each claim of a trace event an id of its own, apart from when its lease runs out."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("django_wxlogistics", "0002_unsent_index"),
    ]

    operations = [
        # Nullable, no default: PostgreSQL adds the column without rewriting the table.
        migrations.AddField(
            model_name="traceevent",
            name="claim_id",
            field=models.UUIDField(blank=True, editable=False, null=True, verbose_name="claim ID"),
        ),
    ]
