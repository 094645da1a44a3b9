"""What a WeChat errcode is called, in words staff can act on (the admin, the status command)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy

ERRCODE_LABELS = {
    -1: gettext_lazy("WeChat busy"),
    40001: gettext_lazy("invalid access token"),
    40014: gettext_lazy("invalid access token"),
    42001: gettext_lazy("access token expired"),
    40013: gettext_lazy("invalid AppID"),
    40125: gettext_lazy("invalid AppSecret"),
    45009: gettext_lazy("rate limited"),
    45011: gettext_lazy("rate limited"),
    47001: gettext_lazy("data format error"),
    40199: gettext_lazy("waybill not found"),
    9300507: gettext_lazy("wrong waybill token"),
}


def errcode_label(errcode: int) -> str:
    """``40199 · waybill not found``; unknown codes stand alone."""
    label = ERRCODE_LABELS.get(errcode)
    return f"{errcode} · {label}" if label else str(errcode)
