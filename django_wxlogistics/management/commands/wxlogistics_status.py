"""``manage.py wxlogistics_status``: is the delivery pipeline healthy? Its figures, for people or
machines, and a non-zero exit when it lags more than ``--max-lag`` (a health probe)."""

from __future__ import annotations

import argparse
import json
import math
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from django_wxlogistics import health
from django_wxlogistics.redaction import redact


def seconds(value: str) -> float:
    """``--max-lag``'s value: a number of seconds, 0 or more."""
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or number < 0:
        raise argparse.ArgumentTypeError(
            _("%(value)r is not a number of seconds (0 or more).") % {"value": value}
        )
    return number


class Command(BaseCommand):
    help = _(
        "Show the delivery pipeline's health: items pending, being sent and failed, the lag of the "
        "oldest due item, WeChat's refusals in the last hour by errcode, pushes per minute and the "
        "access token's remaining life. With --max-lag, exit with status 1 when the lag is longer."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--max-lag",
            type=seconds,
            default=None,
            metavar="SECONDS",
            help=_(
                "Exit with status 1 when the oldest due item has waited longer than this: a health probe."
            ),
        )
        parser.add_argument("--json", action="store_true", help=_("Print the figures as JSON, for machines."))

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            figures = health.collect()
        except DatabaseError as exc:
            raise CommandError(
                _("The pipeline's tables cannot be read (the database said: %(error)s).")
                % {"error": redact(exc)}
            ) from None
        max_lag: float | None = options["max_lag"]
        lagging = max_lag is not None and figures.lag > max_lag
        if options["json"]:
            data = {**figures.as_dict(), "max_lag_seconds": max_lag, "healthy": not lagging}
            self.stdout.write(json.dumps(data, ensure_ascii=False, indent=2))
        else:
            self._report(figures)
        if lagging:
            raise CommandError(
                _("The lag is %(lag)s, longer than --max-lag %(max)s.")
                % {"lag": health.duration(figures.lag), "max": health.duration(max_lag or 0)},
                returncode=1,
            )

    # --- the report for people --------------------------------------------------------------

    def _report(self, figures: health.Health) -> None:
        moment = timezone.localtime(figures.now)
        self.stdout.write(
            _("Delivery pipeline at %(time)s") % {"time": moment.strftime("%Y-%m-%d %H:%M:%S %Z")}
        )
        for kind in figures.kinds:
            self.stdout.write("")
            self._kind(kind)
        self.stdout.write("")
        self._token(figures.token)

    def _kind(self, kind: health.KindHealth) -> None:
        self.stdout.write(self.style.MIGRATE_HEADING(kind.label[:1].upper() + kind.label[1:]))
        failed = _("failed: %(count)s") % {"count": health.number(kind.failed)}
        self.stdout.write(
            "  "
            + " · ".join(
                [
                    _("pending: %(count)s") % {"count": health.number(kind.pending)},
                    _("sending: %(count)s") % {"count": health.number(kind.sending)},
                    self.style.ERROR(failed) if kind.failed else failed,
                ]
            )
        )
        if kind.oldest_due_at is None:
            self.stdout.write("  " + _("lag: none (nothing is due)"))
        else:
            self.stdout.write(
                "  "
                + _("lag: %(lag)s (the oldest due item has waited this long)")
                % {"lag": health.duration(kind.lag)}
            )
        self.stdout.write(
            "  "
            + _("pushed: %(rate)s a minute %(over)s")
            % {
                "rate": formats.number_format(kind.pushes_per_minute, 1, force_grouping=True),
                "over": health.rate_text(kind),
            }
        )
        if not kind.refusals:
            self.stdout.write("  " + _("refused in the last hour: none"))
            return
        self.stdout.write("  " + _("refused in the last hour:"))
        for refusal in kind.refusals:
            text = health.refusal_text(refusal)
            self.stdout.write("    " + (self.style.ERROR(text) if refusal.failed else text))

    def _token(self, token: health.TokenHealth) -> None:
        text = health.token_text(token)
        if token.stored_here and token.appid:
            head = _("Access token (%(mode)s mode, AppID %(appid)s)") % {
                "mode": token.mode,
                "appid": token.appid,
            }
        else:
            head = _("Access token")
        expired = token.seconds_left is not None and token.seconds_left <= 0
        self.stdout.write(
            _("%(head)s: %(text)s") % {"head": head, "text": self.style.WARNING(text) if expired else text}
        )
