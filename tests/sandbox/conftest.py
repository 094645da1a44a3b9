# ruff: noqa: S107
"""Helpers for the sandbox's own tests: a WeChat-style caller over real HTTP."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from django_wxlogistics.sandbox import SandboxControl

UPDATE_PATH = "/cgi-bin/express/delivery/path/update"
GET_CONTACT = "/cgi-bin/express/delivery/contact/get"
PREVIEW_TEMPLATE = "/cgi-bin/express/delivery/template/preview"
UPDATE_BUSINESS = "/cgi-bin/express/delivery/service/business/update"


class WeChatCaller:
    """Calls the sandbox the way a shop's server calls WeChat."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.session = requests.Session()

    def get_token(self, appid: str = "wxapp", secret: str = "s3cret", **params: str) -> dict[str, Any]:
        query = {"grant_type": "client_credential", "appid": appid, "secret": secret, **params}
        return self.session.get(f"{self.url}/cgi-bin/token", params=query, timeout=5).json()

    def stable_token(self, **body: Any) -> dict[str, Any]:
        payload = {"grant_type": "client_credential", "appid": "wxapp", "secret": "s3cret", **body}
        return self.session.post(f"{self.url}/cgi-bin/stable_token", json=payload, timeout=5).json()

    def access_token(self) -> str:
        return self.stable_token()["access_token"]

    def post(self, path: str, body: Any, access_token: str | None = None, **kwargs: Any) -> requests.Response:
        params = {"access_token": access_token if access_token is not None else self.access_token()}
        if isinstance(body, bytes):
            return self.session.post(f"{self.url}{path}", params=params, data=body, timeout=5, **kwargs)
        return self.session.post(f"{self.url}{path}", params=params, json=body, timeout=5, **kwargs)

    def update_path(self, waybill_id: str = "SF1", token: str = "T1", **fields: Any) -> dict[str, Any]:
        body = {
            "token": token,
            "waybill_id": waybill_id,
            "action_time": 1533052800,
            "action_type": 300002,
            "action_msg": "Denglijun [18666666666] is delivering your package",
            **fields,
        }
        return self.post(UPDATE_PATH, body).json()

    def get_contact(self, waybill_id: str = "SF1", token: str = "T1") -> dict[str, Any]:
        return self.post(GET_CONTACT, {"token": token, "waybill_id": waybill_id}).json()


@pytest.fixture
def wechat(wechat_sandbox: SandboxControl) -> WeChatCaller:
    caller = WeChatCaller(wechat_sandbox.url)
    yield caller
    caller.session.close()
