"""How healthy is the delivery pipeline right now: the figures the status command, the admin's
dashboard and the metrics endpoint all show.

For each kind of outbound call (``delivery.KINDS``: trace events, shipping information):
how many items are pending, being sent and failed; the lag (how long the oldest due item has
waited); which errcodes WeChat answered in the last hour; how many items were sent in the
last few minutes. And the access token's remaining life, never the token. Each figure is one
indexed query (``docs/benchmarks.md`` shows the plans on a million rows), so a probe may ask
every few seconds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Min, Q
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from .conf import ACCESS_TOKEN_MODES, wx_settings
from .delivery import KINDS, OutboxKind
from .enums import EventState
from .errcodes import errcode_label
from .models import AccessToken

#: The failures counted: those recorded within this long before now.
FAILURE_WINDOW = timedelta(hours=1)
#: Pushes per minute are counted over this long before now...
RATE_WINDOW = timedelta(minutes=5)
#: ...or over the last this many pushes, when there were more: the count reads at most this
#: many entries of its index (2,000 a second still reads only the last few seconds).
RATE_SAMPLE = 10_000

#: The time the figures are taken at. Tests replace it (``monkeypatch.setattr``).
clock: Callable[[], datetime] = timezone.now


@dataclass(frozen=True)
class Refusals:
    """Items whose last attempt WeChat refused with one errcode (None: no answer, an HTTP
    error, or the lease ran out), within :data:`FAILURE_WINDOW`."""

    errcode: int | None
    #: Failed for good: they wait for an operator.
    failed: int
    #: Pending or being sent again: they will be retried.
    retrying: int

    @property
    def total(self) -> int:
        return self.failed + self.retrying


@dataclass(frozen=True)
class KindHealth:
    """The figures of one kind of outbound call."""

    #: The kind's name, a stable key for machines (``trace_event``, ``shipping_info``).
    name: str
    #: Its model's name (``traceevent``): the admin's URLs and permissions.
    model_name: str
    #: What people call its items (``trace events``), in the active language.
    label: str
    pending: int
    sending: int
    failed: int
    #: When the oldest due item became due (its time to be pushed, or its lease's end), or None.
    oldest_due_at: datetime | None
    #: Seconds the oldest due item has waited; 0 when nothing is due.
    lag: float
    #: By errcode, the most refused first.
    refusals: tuple[Refusals, ...]
    #: Items sent within :attr:`rate_window` before now.
    sent_recently: int
    #: :data:`RATE_WINDOW`, or less: the time the last :data:`RATE_SAMPLE` items were sent in.
    rate_window: timedelta

    @property
    def pushes_per_minute(self) -> float:
        return self.sent_recently / (self.rate_window.total_seconds() / 60)

    @property
    def rate_sampled(self) -> bool:
        """The rate is that of the last :data:`RATE_SAMPLE` pushes, sent within less than
        :data:`RATE_WINDOW`."""
        return self.sent_recently >= RATE_SAMPLE


@dataclass(frozen=True)
class TokenHealth:
    """The access token's remaining life, as the shared ``AccessToken`` row says."""

    #: ``stable``, ``classic``, ``cloud``, or ``custom`` (a provider of the shop's own).
    mode: str
    appid: str
    #: When the stored token expires; None when no usable token is stored.
    expires_at: datetime | None
    #: Seconds left, 0 once expired; None when none was ever fetched, or the mode keeps none here.
    seconds_left: float | None

    @property
    def stored_here(self) -> bool:
        """Stable and classic modes keep the token in the database; cloud and custom do not."""
        return self.mode in ("stable", "classic")


@dataclass(frozen=True)
class Health:
    """The pipeline's figures at one moment."""

    now: datetime
    kinds: tuple[KindHealth, ...]
    token: TokenHealth

    @property
    def lag(self) -> float:
        """The largest lag of any kind, in seconds."""
        return max((kind.lag for kind in self.kinds), default=0.0)

    def as_dict(self) -> dict[str, Any]:
        """The figures as JSON-ready data (times in ISO 8601, durations in seconds)."""
        return {
            "now": self.now.isoformat(),
            "lag_seconds": round(self.lag, 3),
            "kinds": {kind.name: _kind_dict(kind) for kind in self.kinds},
            "access_token": {
                "mode": self.token.mode,
                "appid": self.token.appid,
                "expires_at": _iso(self.token.expires_at),
                "seconds_left": None if self.token.seconds_left is None else round(self.token.seconds_left),
            },
        }


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _kind_dict(kind: KindHealth) -> dict[str, Any]:
    return {
        "label": kind.label,
        "pending": kind.pending,
        "sending": kind.sending,
        "failed": kind.failed,
        "oldest_due_at": _iso(kind.oldest_due_at),
        "lag_seconds": round(kind.lag, 3),
        "failures_last_hour": [
            {"errcode": r.errcode, "failed": r.failed, "retrying": r.retrying} for r in kind.refusals
        ],
        "sent_recently": kind.sent_recently,
        "rate_window_seconds": int(kind.rate_window.total_seconds()),
        "pushes_per_minute": round(kind.pushes_per_minute, 2),
    }


def collect(now: datetime | None = None) -> Health:
    """The figures now (or at ``now``)."""
    now = clock() if now is None else now
    kinds = tuple(kind_health(kind, now) for kind in KINDS.values())
    return Health(now=now, kinds=kinds, token=token_health(now))


def kind_health(kind: OutboxKind, now: datetime) -> KindHealth:
    """One kind's figures: five queries, each read from an index of its model, each reading
    only the entries it counts (the sending times: at most :data:`RATE_SAMPLE`)."""
    items = kind.model._default_manager.all()
    # The states' index: one range of it (pending, sending and failed sort together).
    counts = dict(
        items.filter(state__in=[EventState.PENDING, EventState.SENDING, EventState.FAILED])
        .order_by()
        .values_list("state")
        .annotate(n=Count("*"))
        .values_list("state", "n")
    )
    # The first entry of the due index; the first of the leases' index. ORDER BY … LIMIT 1
    # reads one entry, where MIN() may read every due one when the statistics say "none".
    due = (
        items.filter(state=EventState.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("next_attempt_at", flat=True)
        .first()
    )
    lost = (
        items.filter(state=EventState.SENDING, lease_expires_at__lte=now)
        .order_by("lease_expires_at")
        .values_list("lease_expires_at", flat=True)
        .first()
    )
    oldest = min((at for at in (due, lost) if at is not None), default=None)
    # The index of refused items (a last error kept), from the window's start.
    refusals: dict[int | None, dict[str, int]] = {}
    for errcode, state, n in (
        items.filter(~Q(last_errmsg=""), updated_at__gt=now - FAILURE_WINDOW)
        .order_by()
        .values_list("last_errcode", "state")
        .annotate(n=Count("*"))
        .values_list("last_errcode", "state", "n")
    ):
        entry = refusals.setdefault(errcode, {"failed": 0, "retrying": 0})
        entry["failed" if state == EventState.FAILED else "retrying"] += n
    # The index of sending times, backwards from now: at most RATE_SAMPLE entries of it.
    sent = (
        items.filter(sent_at__gt=now - RATE_WINDOW, sent_at__lte=now)
        .order_by("-sent_at")[:RATE_SAMPLE]
        .aggregate(n=Count("*"), since=Min("sent_at"))
    )
    span = RATE_WINDOW if sent["n"] < RATE_SAMPLE else max(now - sent["since"], timedelta(seconds=1))
    return KindHealth(
        name=kind.name,
        model_name=kind.model._meta.model_name or kind.model.__name__.lower(),
        label=str(kind.model._meta.verbose_name_plural),
        pending=counts.get(EventState.PENDING, 0),
        sending=counts.get(EventState.SENDING, 0),
        failed=counts.get(EventState.FAILED, 0),
        oldest_due_at=oldest,
        lag=max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0,
        refusals=tuple(
            sorted(
                (Refusals(code, **n) for code, n in refusals.items()),
                key=lambda r: (-r.total, r.errcode is None, r.errcode or 0),
            )
        ),
        sent_recently=sent["n"],
        rate_window=span,
    )


def token_health(now: datetime) -> TokenHealth:
    """The stored access token's remaining life (by the AppID's unique index)."""
    mode = wx_settings.valid("ACCESS_TOKEN")
    mode = mode if mode in ACCESS_TOKEN_MODES else "custom"
    appid = wx_settings.valid("APPID")
    appid = appid if isinstance(appid, str) else ""
    if mode not in ("stable", "classic") or not appid:
        return TokenHealth(mode=mode, appid=appid, expires_at=None, seconds_left=None)
    row = AccessToken.objects.filter(appid=appid).values_list("expires_at").first()
    if row is None:
        return TokenHealth(mode=mode, appid=appid, expires_at=None, seconds_left=None)
    # A row made before the first fetch, or a token WeChat refused, expires at the epoch.
    expires_at = row[0] if row[0].year > 1970 else None
    left = 0.0 if expires_at is None else max(0.0, (expires_at - now).total_seconds())
    return TokenHealth(mode=mode, appid=appid, expires_at=expires_at, seconds_left=left)


def duration(seconds: float) -> str:
    """``3 min 20 s``: a lag or a token's life in the active language, to the two largest units."""
    left = max(0, round(seconds))
    days, left = divmod(left, 86400)
    hours, left = divmod(left, 3600)
    minutes, secs = divmod(left, 60)
    if days:
        return _("%(days)d d %(hours)d h") % {"days": days, "hours": hours}
    if hours:
        return _("%(hours)d h %(minutes)d min") % {"hours": hours, "minutes": minutes}
    if minutes:
        return _("%(minutes)d min %(seconds)d s") % {"minutes": minutes, "seconds": secs}
    return _("%(seconds)d s") % {"seconds": secs}


# --- the figures in words, for the command and the dashboard --------------------------------


def number(value: int) -> str:
    """``12,345`` (grouped as the active language groups)."""
    return number_format(value, force_grouping=True)


def refusal_text(refusal: Refusals) -> str:
    """``40199 · waybill not found: 3 failed for good, 1 to be retried``."""
    if refusal.errcode is None:
        code = _("no errcode (no answer, an HTTP error, or the worker's lease ran out)")
    else:
        code = errcode_label(refusal.errcode)
    parts = []
    if refusal.failed:
        parts.append(_("%(count)s failed for good") % {"count": number(refusal.failed)})
    if refusal.retrying:
        parts.append(_("%(count)s to be retried") % {"count": number(refusal.retrying)})
    return _("%(errcode)s: %(counts)s") % {
        "errcode": code,
        "counts": pgettext("list separator", ", ").join(parts),
    }


def rate_text(kind: KindHealth) -> str:
    """What the pushes a minute are counted over: ``over the last 5 minutes``."""
    if kind.rate_sampled:
        return _("over the last %(count)s pushes") % {"count": number(kind.sent_recently)}
    minutes = round(kind.rate_window.total_seconds() / 60)
    return ngettext("over the last minute", "over the last %(minutes)d minutes", minutes) % {
        "minutes": minutes
    }


def token_text(token: TokenHealth) -> str:
    """The access token's remaining life in words (never the token)."""
    if token.mode == "cloud":
        return _("added to each call by WeChat Cloud Hosting (cloud mode)")
    if not token.stored_here:
        return _("kept by your own provider; its life is not known here")
    if not token.appid:
        return _("none: WXLOGISTICS['APPID'] is not set")
    if token.seconds_left is None:
        return _("none fetched yet")
    if token.seconds_left <= 0:
        return _("expired; the next call fetches a new one")
    return _("%(left)s left") % {"left": duration(token.seconds_left)}
