"""``manage.py wxlogistics_push``: push pending trace events now, in order, without a worker."""

from __future__ import annotations

import sys
from collections import Counter
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from django_wxlogistics import delivery
from django_wxlogistics.conf import wx_settings
from django_wxlogistics.delivery import TRACE_EVENTS
from django_wxlogistics.enums import EventState
from django_wxlogistics.models import TraceEvent, Waybill
from django_wxlogistics.services import push_pending_now, retry_failed_events


class Command(BaseCommand):
    help = _(
        "Push pending trace events to WeChat now, in order, in this process: for shops without a "
        "worker, and after an outage. Events that fail for a passing reason go back to the queue."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--waybill",
            action="append",
            default=[],
            metavar="WAYBILL_ID",
            help=_("Only this waybill (repeat for several)."),
        )
        parser.add_argument(
            "--retry-failed", action="store_true", help=_("Also give failed events a fresh set of attempts.")
        )
        parser.add_argument(
            "--dry-run", action="store_true", help=_("Show what would be pushed; change nothing.")
        )

    def handle(self, *args: Any, **options: Any) -> None:
        waybill_pks = self._waybill_pks(options["waybill"])
        states = [EventState.PENDING, EventState.SENDING]
        if options["retry_failed"]:
            states.append(EventState.FAILED)
        events = TraceEvent.objects.filter(state__in=states)
        if waybill_pks is not None:
            events = events.filter(waybill_id__in=waybill_pks)
        counts = Counter(events.values_list("state", flat=True))
        total = sum(counts.values())
        if not total:
            self.stdout.write(_("Nothing to push."))
            return
        if options["dry_run"]:
            self._dry_run(events, counts)
            return

        # Events whose worker died mid-push come back first; then everything is due now.
        delivery.reclaim_expired_leases(TRACE_EVENTS)
        if options["retry_failed"]:
            retry_failed_events(events, nudge_workers=False)
        push_pending_now(events, nudge_workers=False)

        outcomes: Counter[delivery.Outcome] = Counter()
        done = 0
        self._progress(done, total, outcomes)
        progressed = True
        size = wx_settings.PUSH_CONCURRENCY
        while progressed:  # each round: every waybill's first due events (a chain), several at once
            progressed = False
            heads = delivery.due_head_ids(TRACE_EVENTS, line_pks=waybill_pks)
            for start in range(0, len(heads), size):
                results = delivery.deliver_many(TRACE_EVENTS, heads[start : start + size], follow=False)
                for outcome in results.outcomes.values():
                    outcomes[outcome] += 1
                    # Skipped: a worker holds it. Released: handed back untried behind a
                    # retry, it comes round again.
                    if outcome not in (delivery.Outcome.SKIPPED, delivery.Outcome.RELEASED):
                        progressed = True
                        done += 1
                self._progress(min(done, total), total, outcomes)
        self.stderr.write("")
        waiting = events.filter(state__in=[EventState.PENDING, EventState.SENDING]).count()
        self.stdout.write(
            _("Sent: %(sent)d, retried later: %(retried)d, failed: %(failed)d, still waiting: %(waiting)d.")
            % {
                "sent": outcomes[delivery.Outcome.SENT],
                "retried": outcomes[delivery.Outcome.RETRY],
                "failed": outcomes[delivery.Outcome.FAILED],
                "waiting": waiting,
            }
        )

    def _waybill_pks(self, waybill_ids: list[str]) -> list[int] | None:
        if not waybill_ids:
            return None
        found = dict(Waybill.objects.filter(waybill_id__in=waybill_ids).values_list("waybill_id", "pk"))
        missing = sorted(set(waybill_ids) - set(found))
        if missing:
            raise CommandError(
                _("No waybill with the id %(ids)s. Check the --waybill values.") % {"ids": ", ".join(missing)}
            )
        return list(found.values())

    def _dry_run(self, events: QuerySet[TraceEvent], counts: Counter[str]) -> None:
        self.stdout.write(
            _("Would push %(total)d event(s): %(pending)d pending, %(sending)d sending, %(failed)d failed.")
            % {
                "total": sum(counts.values()),
                "pending": counts[EventState.PENDING],
                "sending": counts[EventState.SENDING],
                "failed": counts[EventState.FAILED],
            }
        )
        for event in events.select_related("waybill").order_by("waybill_id", "action_time", "pk")[:50]:
            self.stdout.write(
                f"  {event.waybill.waybill_id}  {event.action_time:%Y-%m-%d %H:%M:%S}  "
                f"{event.action_type}  {event.state}  (#{event.pk})"
            )

    def _progress(self, done: int, total: int, outcomes: Counter[delivery.Outcome]) -> None:
        if not sys.stderr.isatty() and done not in (0, total) and done % 100:
            return  # in logs, a line every hundred events
        width = 30
        filled = width * done // total if total else width
        line = _("%(bar)s %(done)d/%(total)d  sent %(sent)d  retried %(retried)d  failed %(failed)d") % {
            "bar": "[" + "#" * filled + "." * (width - filled) + "]",
            "done": done,
            "total": total,
            "sent": outcomes[delivery.Outcome.SENT],
            "retried": outcomes[delivery.Outcome.RETRY],
            "failed": outcomes[delivery.Outcome.FAILED],
        }
        self.stderr.write("\r" + line, ending="")
