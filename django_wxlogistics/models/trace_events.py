"""What a trace event is: one step of a waybill's way, queued for WeChat's updatePath."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..enums import (
    ACTION_MSG_MAX_LENGTH,
    ActionType,
    EventState,
)
from .outbox import OutboxItem
from .waybills import Waybill


class TraceEvent(OutboxItem):
    """One change of a waybill's trace, and how far it got on its way to WeChat."""

    waybill = models.ForeignKey(
        Waybill, on_delete=models.CASCADE, related_name="events", verbose_name=_("waybill")
    )
    action_type = models.PositiveIntegerField(_("action type"), choices=ActionType.choices)
    action_msg = models.CharField(_("message"), max_length=ACTION_MSG_MAX_LENGTH)
    action_time = models.DateTimeField(_("action time"), default=timezone.now)

    class Meta:
        verbose_name = _("trace event")
        verbose_name_plural = _("trace events")
        ordering = ["action_time", "id"]
        indexes = [
            # The sweeper: pending events whose time has come.
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(state=EventState.PENDING),
                name="wxl_event_due_idx",
            ),
            # The sweeper: events whose worker died mid-push.
            models.Index(
                fields=["lease_expires_at"],
                condition=Q(state=EventState.SENDING),
                name="wxl_event_lease_idx",
            ),
            # Per-waybill order: earlier events of the same waybill, and the admin timeline.
            models.Index(fields=["waybill", "action_time", "id"], name="wxl_event_waybill_time_idx"),
            # Per-waybill order on the hot path: "is an earlier event still unsent?" reads only
            # the events in flight, however many sent ones the table holds.
            models.Index(
                fields=["waybill", "action_time", "id"],
                condition=Q(state__in=[EventState.PENDING, EventState.SENDING]),
                name="wxl_event_unsent_idx",
            ),
            models.Index(fields=["state", "last_errcode"], name="wxl_event_state_errcode_idx"),
            # The admin's list, newest first, and the first and last dates of its drill-down:
            # read from one end, never sorted whole...
            models.Index(fields=["action_time", "id"], name="wxl_event_time_idx"),
            # ...and filtered by state: a few failed or pending events among a million sent
            # ones are read from theirs, not looked for along every event's time.
            models.Index(fields=["state", "action_time", "id"], name="wxl_event_state_time_idx"),
            # The admin's errcode filter: the codes that occur, among the few events that have one.
            models.Index(
                fields=["last_errcode"], condition=Q(last_errcode__isnull=False), name="wxl_event_errcode_idx"
            ),
            # The health figures (health.py): pushes of the last minutes, by sending time...
            models.Index(
                fields=["sent_at"], condition=Q(sent_at__isnull=False), name="wxl_event_sent_at_idx"
            ),
            # ...and the refusals of the last hour, by errcode: events whose last attempt failed.
            models.Index(
                fields=["updated_at", "last_errcode", "state"],
                condition=~Q(last_errmsg=""),
                name="wxl_event_refused_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(state__in=EventState.values), name="wxl_event_state_valid"),
            models.CheckConstraint(
                condition=Q(action_type__in=ActionType.values), name="wxl_event_action_type_valid"
            ),
            models.CheckConstraint(condition=~Q(action_msg=""), name="wxl_event_action_msg_not_empty"),
            models.CheckConstraint(
                condition=~Q(state=EventState.SENT) | Q(sent_at__isnull=False),
                name="wxl_event_sent_has_sent_at",
            ),
            models.CheckConstraint(
                condition=~Q(state=EventState.SENDING) | Q(lease_expires_at__isnull=False),
                name="wxl_event_sending_has_lease",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.waybill_id}: {self.get_action_type_display()} @ {self.action_time:%Y-%m-%d %H:%M}"
