"""Index outbound items (trace events, shipping information) by sending time and their refusals by time: the health figures read only the last minutes."""

from importlib import import_module

from django.db import migrations, models

# The operation 0002 defined: the index built CONCURRENTLY on PostgreSQL, plainly elsewhere.
AddIndexConcurrentlyOnPostgreSQL = import_module(
    "django_wxlogistics.migrations.0002_unsent_index"
).AddIndexConcurrentlyOnPostgreSQL


class Migration(migrations.Migration):
    # PostgreSQL builds the indexes without locking the table against writes, which it cannot
    # do inside a transaction.
    atomic = False

    dependencies = [
        ("django_wxlogistics", "0005_shipping_info"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgreSQL(
            model_name="traceevent",
            index=models.Index(
                condition=models.Q(("sent_at__isnull", False)),
                fields=["sent_at"],
                name="wxl_event_sent_at_idx",
            ),
        ),
        AddIndexConcurrentlyOnPostgreSQL(
            model_name="traceevent",
            index=models.Index(
                condition=models.Q(("last_errmsg", ""), _negated=True),
                fields=["updated_at", "last_errcode", "state"],
                name="wxl_event_refused_idx",
            ),
        ),
        AddIndexConcurrentlyOnPostgreSQL(
            model_name="shippinginfo",
            index=models.Index(
                condition=models.Q(("sent_at__isnull", False)),
                fields=["sent_at"],
                name="wxl_shipping_sent_at_idx",
            ),
        ),
        AddIndexConcurrentlyOnPostgreSQL(
            model_name="shippinginfo",
            index=models.Index(
                condition=models.Q(("last_errmsg", ""), _negated=True),
                fields=["updated_at", "last_errcode", "state"],
                name="wxl_shipping_refused_idx",
            ),
        ),
    ]
