"""A host project configured only through settings, run in a process of its own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]


def host_database_url(tmp_path: Path) -> str:
    db = settings.DATABASES["default"]
    if "postgresql" in db["ENGINE"]:
        # A database of its own, beside this run's, so the two never collide.
        user = db.get("USER") or "postgres"
        password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
        host, port = db.get("HOST") or "127.0.0.1", db.get("PORT") or 5432
        name = str(db["NAME"]).removeprefix("test_")
        return f"postgres://{user}{password}@{host}:{port}/{name}_host"
    return f"sqlite:///{tmp_path / 'host.sqlite3'}"


@pytest.mark.integration
def test_a_host_project_configured_only_through_settings(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.signals.hostproject.settings",
        "WXL_HOST_DATABASE_URL": host_database_url(tmp_path),
    }
    proc = subprocess.run(
        [sys.executable, "-m", "tests.signals.hostproject.run"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["checks"] == []
    assert result["order_id"] == "P-1"  # ORDER_ID_ATTR = "reference"
    assert result["events"] == [
        ["HOST-WB-1", 100001, "Parcel HOST-WB-1 of P-1: dispatched", "pending"],
        ["HOST-WB-1", 300002, "Courier [18666666666] is on the way", "pending"],
        ["HOST-WB-1", 300003, "Your parcel has been delivered and signed for.", "pending"],
        ["HOST-WB-2", 100001, "Parcel HOST-WB-2 of P-1: dispatched", "pending"],
        ["HOST-WB-2", 300002, "Courier [18666666666] is on the way", "pending"],
        ["HOST-WB-2", 300003, "Your parcel has been delivered and signed for.", "pending"],
    ]
    assert "host-waybill-token" not in proc.stdout + proc.stderr
