"""Index the admin's lists by their order: events by time (and state), waybills by creation; errcodes."""

from importlib import import_module

from django.db import migrations, models

# The operation 0002 defined: the index built CONCURRENTLY on PostgreSQL, plainly elsewhere.
AddIndexConcurrentlyOnPostgreSQL = import_module(
    "django_wxlogistics.migrations.0002_unsent_index"
).AddIndexConcurrentlyOnPostgreSQL


class Migration(migrations.Migration):
    # PostgreSQL builds the indexes without locking the tables against writes, which it cannot
    # do inside a transaction.
    atomic = False

    dependencies = [
        ("django_wxlogistics", "0006_health_indexes"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgreSQL(
            model_name="traceevent",
            index=models.Index(fields=["action_time", "id"], name="wxl_event_time_idx"),
        ),
        AddIndexConcurrentlyOnPostgreSQL(
            model_name="traceevent",
            index=models.Index(fields=["state", "action_time", "id"], name="wxl_event_state_time_idx"),
        ),
        AddIndexConcurrentlyOnPostgreSQL(
            model_name="traceevent",
            index=models.Index(
                condition=models.Q(("last_errcode__isnull", False)),
                fields=["last_errcode"],
                name="wxl_event_errcode_idx",
            ),
        ),
        AddIndexConcurrentlyOnPostgreSQL(
            model_name="waybill",
            index=models.Index(fields=["created_at", "id"], name="wxl_waybill_created_idx"),
        ),
    ]
