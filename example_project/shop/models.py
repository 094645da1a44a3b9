from typing import Any

from django.db import models, transaction
from django.utils.translation import gettext_lazy as _

from django_wxlogistics.signals import order_status_changed

#: The goods of an order that names none.
DEFAULT_ITEM = "商品*1"
#: The picture of the demo's goods (the tracking component wants a full URL; demo only).
DEMO_GOODS_IMAGE = "https://shop.example.com/static/goods.png"


class Order(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending payment")
        PAID = "paid", _("Paid")
        SHIPPED = "shipped", _("Shipped")
        IN_TRANSIT = "in_transit", _("In transit")
        OUT_FOR_DELIVERY = "out_for_delivery", _("Out for delivery")
        DELIVERED = "delivered", _("Delivered")
        DELIVERY_FAILED = "delivery_failed", _("Delivery failed")
        DELAYED = "delayed", _("Delayed")
        CANCELLED = "cancelled", _("Cancelled")

    number = models.CharField(_("number"), max_length=32, unique=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PENDING)
    customer_name = models.CharField(_("customer"), max_length=100, blank=True)
    courier_name = models.CharField(_("courier"), max_length=100, blank=True)
    courier_phone = models.CharField(_("courier phone"), max_length=20, blank=True)
    # What WeChat's shipping information names (the app's default SHIPPING_ADAPTER reads them):
    # the WeChat Pay payment and its payer, from the payment callback; the parcel, once shipped.
    wechat_transaction_id = models.CharField(
        _("WeChat Pay transaction ID"),
        max_length=32,
        blank=True,
        help_text=_("The transaction_id of the WeChat Pay payment; empty: not paid with WeChat Pay."),
    )
    payer_openid = models.CharField(
        _("payer's openid"), max_length=128, blank=True, help_text=_("The openid of the user who paid.")
    )
    tracking_number = models.CharField(_("tracking number"), max_length=128, blank=True)
    carrier_code = models.CharField(
        _("carrier code"),
        max_length=128,
        blank=True,
        help_text=_("The carrier's code in WeChat's delivery list, e.g. SF for SF Express."),
    )
    item_desc = models.CharField(_("goods"), max_length=120, blank=True)
    receiver_phone = models.CharField(
        _("receiver's phone"),
        max_length=20,
        blank=True,
        help_text=_("Sent to WeChat masked (189****1234); SF Express requires it."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.number

    # What the app's default TRACKING_ADAPTER reads (with receiver_phone, whole) to register the
    # parcel with WeChat's tracking component (TRACK_WAYBILLS in the settings).
    @property
    def goods(self) -> list[dict[str, str]]:
        """The goods the mini program's parcel page shows: one line, named as the parcel's goods."""
        return [{"goods_name": (self.item_desc or DEFAULT_ITEM)[:60], "goods_img_url": DEMO_GOODS_IMAGE}]

    @property
    def order_detail_path(self) -> str:
        """The mini program's page of the order, which the parcel page's goods card opens."""
        return f"pages/orders/detail?number={self.number}"

    def set_status(self, new_status: str) -> bool:
        """Change the status and tell django-wxlogistics. Returns False if it did not change.

        The recommended way in: the code that changes a status sends ``order_status_changed``
        (as django-oscar's ``Order.set_status`` does), inside the same transaction.
        """
        old_status = self.status
        if new_status == old_status:
            return False
        with transaction.atomic():
            self.status = new_status
            self.save(update_fields=["status", "updated_at"])
            send_status_changed(self, old_status, new_status)
        return True


def send_status_changed(order: Order, old_status: Any, new_status: Any) -> None:
    order_status_changed.send(sender=Order, order=order, old_status=old_status, new_status=new_status)
