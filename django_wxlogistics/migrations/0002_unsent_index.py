"""Index the unsent events by waybill and time: the per-waybill order check reads only them."""

from typing import Any

from django.db import migrations, models


class AddIndexConcurrentlyOnPostgreSQL(migrations.AddIndex):
    """``AddIndex`` that builds the index ``CONCURRENTLY`` on PostgreSQL.

    A shop's trace-event table can be large and is written on every order-status change:
    a plain ``CREATE INDEX`` would hold those writes until the index is built. Other
    databases get a plain ``AddIndex``. The migration must be ``atomic = False``.
    """

    def database_forwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        model = to_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            schema_editor.add_index(model, self.index, concurrently=True)

    def database_backwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        model = from_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            schema_editor.remove_index(model, self.index, concurrently=True)



class Migration(migrations.Migration):
    # PostgreSQL builds the index without locking the table against writes, which it cannot
    # do inside a transaction.
    atomic = False

    dependencies = [
        ("django_wxlogistics", "0001_initial"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgreSQL(
            model_name="traceevent",
            index=models.Index(
                condition=models.Q(("state__in", ["pending", "sending"])),
                fields=["waybill", "action_time", "id"],
                name="wxl_event_unsent_idx",
            ),
        ),
    ]
