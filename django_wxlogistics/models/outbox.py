"""Which columns an item on its way to WeChat carries for the delivery engine: state, lease, last answer."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..enums import EventState

#: The delivery columns staff and the API see, in the order they show them: not the lease nor the
#: claim, which are the engine's alone.
SHOWN_FIELDS = (
    "state",
    "attempts",
    "next_attempt_at",
    "last_errcode",
    "last_errmsg",
    "sent_at",
    "created_at",
)


class OutboxItem(models.Model):
    """The delivery columns of one outbound call (a trace event, a shipping-information call):
    what the engine claims, retries and records.

    A kind of call inherits them; its indexes and constraints, which name its table, stay on it.
    """

    state = models.CharField(
        _("state"), max_length=16, choices=EventState.choices, default=EventState.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    # While state is "sending", the worker holding the item must finish before this time;
    # after it, the sweeper hands the item to another worker.
    lease_expires_at = models.DateTimeField(_("lease expires"), null=True, blank=True)
    # While state is "sending", the claim that leased the item: every write after the claim
    # checks it, so a worker whose lease ran out cannot record over the worker holding it now.
    claim_id = models.UUIDField(_("claim ID"), null=True, blank=True, editable=False)
    # WeChat's answer to the last attempt that failed (errcode None: no answer, e.g. a timeout).
    last_errcode = models.IntegerField(_("last errcode"), null=True, blank=True)
    last_errmsg = models.CharField(_("last error"), max_length=512, blank=True, default="")
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        abstract = True
