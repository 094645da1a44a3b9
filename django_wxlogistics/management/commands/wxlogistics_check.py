"""``manage.py wxlogistics_check``: do the configured credentials work? Asks WeChat, says so."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, router
from django.utils.translation import gettext as _

from django_wxlogistics.client import get_client
from django_wxlogistics.conf import wx_settings
from django_wxlogistics.exceptions import ConfigurationError, NetworkError, TokenStoreError, WeChatError
from django_wxlogistics.redaction import redact
from django_wxlogistics.tokens import ClassicTokenProvider, CloudTokenProvider, SharedTokenProvider


class Command(BaseCommand):
    help = _(
        "Fetch an access token with the configured AppID and AppSecret and say whether they work. "
        "Exits with a non-zero status if they do not. The token itself is never printed."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            client = get_client()
        except ConfigurationError as exc:
            raise CommandError(str(exc)) from None
        provider = client.tokens
        base_url = client.transport.base_url
        if isinstance(provider, CloudTokenProvider):
            self.stdout.write(
                _(
                    "WXLOGISTICS['ACCESS_TOKEN'] is 'cloud': WeChat Cloud Hosting adds the access token "
                    "to each call, so there are no credentials to check here."
                )
            )
            return
        if isinstance(provider, SharedTokenProvider):
            self._check_database()
            self.stdout.write(
                _("Asking %(url)s for an access token for AppID %(appid)s (%(mode)s mode)…")
                % {"url": base_url, "appid": provider.appid, "mode": wx_settings.ACCESS_TOKEN}
            )
            failure = self._check_shared(provider, base_url)
        else:
            self.stdout.write(
                _("Asking your provider %(provider)s for an access token…")
                % {"provider": type(provider).__name__}
            )
            failure = self._check_custom(provider)
        if failure:
            raise CommandError(failure)

    def _check_database(self) -> None:
        # The token is stored for the fleet: a missing table is a setup step, not a WeChat error.
        from django_wxlogistics.models import AccessToken

        try:
            AccessToken.objects.using(router.db_for_write(AccessToken)).exists()
        except DatabaseError as exc:
            raise CommandError(self._database_failure(exc)) from None

    def _database_failure(self, error: object) -> str:
        return _(
            "The access token table cannot be used (the database said: %(error)s). "
            "Run `python manage.py migrate`, and check the DATABASES setting."
        ) % {"error": redact(error)}

    def _check_shared(self, provider: SharedTokenProvider, base_url: str) -> str:
        try:
            fetched = provider.refresh()
        except DatabaseError as exc:
            return self._database_failure(exc)
        except TokenStoreError as exc:
            return _("The access token could not be stored for the shop's processes. %(error)s") % {
                "error": exc
            }
        except NetworkError as exc:
            return _("Could not reach WeChat at %(url)s: %(error)s") % {"url": base_url, "error": exc}
        except WeChatError as exc:
            return _("The credentials do not work. %(error)s") % {"error": exc}
        self.stdout.write(
            self.style.SUCCESS(
                _(
                    "The credentials work: WeChat gave an access token valid for %(minutes)d minutes. "
                    "It is stored for every process of the shop."
                )
                % {"minutes": fetched.expires_in // 60}
            )
        )
        if isinstance(provider, ClassicTokenProvider):
            self.stdout.write(
                self.style.WARNING(
                    _(
                        "Classic mode: each fetch makes a new access token, so the token that other "
                        "processes and systems hold for this AppID stops working about 5 minutes from now. "
                        "This shop's processes switch to the new one when WeChat refuses the old one; "
                        "another system that fetches tokens for this AppID does not."
                    )
                )
            )
        return ""

    def _check_custom(self, provider: Any) -> str:
        try:
            token = provider.get_token()
        except WeChatError as exc:
            return _("Your provider could not get an access token. %(error)s") % {"error": exc}
        except Exception as exc:  # the shop's own code: report whatever it raised, redacted
            return _("Your provider raised %(kind)s: %(error)s") % {
                "kind": type(exc).__name__,
                "error": redact(exc),
            }
        if not isinstance(token, str) or not token:
            return _("Your provider returned a %(value)s instead of an access token.") % {
                "value": type(token).__name__
            }
        self.stdout.write(
            self.style.SUCCESS(
                _("Your provider handed out an access token (%(length)d characters).")
                % {"length": len(token)}
            )
        )
        return ""
