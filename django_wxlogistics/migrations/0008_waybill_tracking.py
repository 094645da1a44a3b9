"""Waybill tracking on the payment's line: the trace_waybill call and the waybill_token it answers."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("django_wxlogistics", "0007_admin_list_indexes"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="payment",
            name="wxl_payment_latest_call_valid",
        ),
        migrations.RemoveConstraint(
            model_name="shippinginfo",
            name="wxl_shipping_call_valid",
        ),
        migrations.AddField(
            model_name="shippinginfo",
            name="waybill_token",
            field=models.CharField(
                blank=True, default="", editable=False, max_length=255, verbose_name="waybill token"
            ),
        ),
        migrations.AlterField(
            model_name="payment",
            name="latest_call",
            field=models.CharField(
                blank=True,
                choices=[
                    ("upload", "Upload"),
                    ("reupload", "Re-upload"),
                    ("confirm_receipt", "Receipt confirmation"),
                    ("trace_waybill", "Waybill tracking"),
                ],
                default="",
                max_length=16,
                verbose_name="latest call sent",
            ),
        ),
        migrations.AlterField(
            model_name="shippinginfo",
            name="call",
            field=models.CharField(
                choices=[
                    ("upload", "Upload"),
                    ("reupload", "Re-upload"),
                    ("confirm_receipt", "Receipt confirmation"),
                    ("trace_waybill", "Waybill tracking"),
                ],
                max_length=16,
                verbose_name="call",
            ),
        ),
        migrations.AddConstraint(
            model_name="payment",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("latest_call__in", ["upload", "reupload", "confirm_receipt", "trace_waybill", ""])
                ),
                name="wxl_payment_latest_call_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="shippinginfo",
            constraint=models.CheckConstraint(
                condition=models.Q(("call__in", ["upload", "reupload", "confirm_receipt", "trace_waybill"])),
                name="wxl_shipping_call_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="shippinginfo",
            constraint=models.CheckConstraint(
                condition=models.Q(("waybill_token", ""), ("call", "trace_waybill"), _connector="OR"),
                name="wxl_shipping_token_of_tracking",
            ),
        ),
    ]
