"""``manage.py wxlogistics_sandbox --port PORT``: the fake WeChat logistics API."""

from __future__ import annotations

import argparse
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext_lazy as _

from django_wxlogistics.sandbox.cli import add_arguments, serve


class Command(BaseCommand):
    help = _(  # type: ignore[assignment]
        "Serve a fake WeChat logistics API (token, updatePath, getContact) for development and tests."
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        add_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        status = serve(options, out=self.stdout)
        if status:
            raise CommandError(_("The sandbox could not start (see the message above)."), returncode=status)
