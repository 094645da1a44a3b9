"""Payments and their shipping information: the merchant's calls on their way to WeChat, one-time rules held by the database."""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('django_wxlogistics', '0004_inboundevent'),
    ]

    operations = [
        migrations.CreateModel(
            name='Payment',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('order_id', models.CharField(db_index=True, max_length=64, verbose_name='order')),
                ('transaction_id', models.CharField(blank=True, default='', max_length=64, verbose_name='transaction ID')),
                ('mchid', models.CharField(blank=True, default='', max_length=32, verbose_name='merchant number')),
                ('out_trade_no', models.CharField(blank=True, default='', max_length=64, verbose_name='out_trade_no')),
                ('latest_call', models.CharField(blank=True, choices=[('upload', 'Upload'), ('reupload', 'Re-upload'), ('confirm_receipt', 'Receipt confirmation')], default='', max_length=16, verbose_name='latest call sent')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created')),
                ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated')),
            ],
            options={
                'verbose_name': 'payment',
                'verbose_name_plural': 'payments',
                'ordering': ['-created_at', '-id'],
                'constraints': [models.CheckConstraint(condition=models.Q(('order_id', ''), _negated=True), name='wxl_payment_order_id_not_empty'), models.CheckConstraint(condition=models.Q(models.Q(('transaction_id', ''), _negated=True), models.Q(models.Q(('mchid', ''), _negated=True), models.Q(('out_trade_no', ''), _negated=True)), _connector='OR'), name='wxl_payment_has_key'), models.UniqueConstraint(condition=models.Q(('transaction_id', ''), _negated=True), fields=('transaction_id',), name='wxl_payment_transaction_unique'), models.UniqueConstraint(condition=models.Q(('transaction_id', '')), fields=('mchid', 'out_trade_no'), name='wxl_payment_trade_no_unique'), models.CheckConstraint(condition=models.Q(('latest_call__in', ['upload', 'reupload', 'confirm_receipt', ''])), name='wxl_payment_latest_call_valid')],
            },
        ),
        migrations.CreateModel(
            name='ShippingInfo',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('order_id', models.CharField(db_index=True, max_length=64, verbose_name='order')),
                ('call', models.CharField(choices=[('upload', 'Upload'), ('reupload', 'Re-upload'), ('confirm_receipt', 'Receipt confirmation')], max_length=16, verbose_name='call')),
                ('completes', models.BooleanField(default=True, verbose_name='completes the shipping')),
                ('request', models.JSONField(verbose_name='request')),
                ('state', models.CharField(choices=[('pending', 'Pending'), ('sending', 'Sending'), ('sent', 'Sent'), ('failed', 'Failed')], default='pending', max_length=16, verbose_name='state')),
                ('attempts', models.PositiveIntegerField(default=0, verbose_name='attempts')),
                ('next_attempt_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='next attempt')),
                ('lease_expires_at', models.DateTimeField(blank=True, null=True, verbose_name='lease expires')),
                ('claim_id', models.UUIDField(blank=True, editable=False, null=True, verbose_name='claim ID')),
                ('last_errcode', models.IntegerField(blank=True, null=True, verbose_name='last errcode')),
                ('last_errmsg', models.CharField(blank=True, default='', max_length=512, verbose_name='last error')),
                ('sent_at', models.DateTimeField(blank=True, null=True, verbose_name='sent')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created')),
                ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated')),
                ('payment', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='shipping_infos', to='django_wxlogistics.payment', verbose_name='payment')),
            ],
            options={
                'verbose_name': 'shipping information',
                'verbose_name_plural': 'shipping information',
                'ordering': ['id'],
                'indexes': [models.Index(condition=models.Q(('state', 'pending')), fields=['next_attempt_at'], name='wxl_shipping_due_idx'), models.Index(condition=models.Q(('state', 'sending')), fields=['lease_expires_at'], name='wxl_shipping_lease_idx'), models.Index(condition=models.Q(('state__in', ['pending', 'sending'])), fields=['payment', 'id'], name='wxl_shipping_unsent_idx'), models.Index(fields=['state', 'last_errcode'], name='wxl_shipping_state_errcode_idx')],
                'constraints': [models.CheckConstraint(condition=models.Q(('state__in', ['pending', 'sending', 'sent', 'failed'])), name='wxl_shipping_state_valid'), models.CheckConstraint(condition=models.Q(('call__in', ['upload', 'reupload', 'confirm_receipt'])), name='wxl_shipping_call_valid'), models.CheckConstraint(condition=models.Q(('order_id', ''), _negated=True), name='wxl_shipping_order_id_not_empty'), models.CheckConstraint(condition=models.Q(models.Q(('state', 'sent'), _negated=True), ('sent_at__isnull', False), _connector='OR'), name='wxl_shipping_sent_has_sent_at'), models.CheckConstraint(condition=models.Q(models.Q(('state', 'sending'), _negated=True), ('lease_expires_at__isnull', False), _connector='OR'), name='wxl_shipping_sending_has_lease'), models.UniqueConstraint(condition=models.Q(('call', 'upload'), ('completes', True), models.Q(('state', 'failed'), _negated=True)), fields=('payment',), name='wxl_shipping_one_upload'), models.UniqueConstraint(condition=models.Q(('call', 'reupload'), models.Q(('state', 'failed'), _negated=True)), fields=('payment',), name='wxl_shipping_one_reupload'), models.UniqueConstraint(condition=models.Q(('call', 'confirm_receipt'), models.Q(('state', 'failed'), _negated=True)), fields=('payment',), name='wxl_shipping_one_confirmation')],
            },
        ),
    ]
