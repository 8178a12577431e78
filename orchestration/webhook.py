"""Notifications to one configurable webhook (ATW_WEBHOOK_URL): no URL, no notification."""

from __future__ import annotations

import json
import os
import urllib.request

TIMEOUT_SECONDS = 10


def webhook_url() -> str | None:
    return os.environ.get("ATW_WEBHOOK_URL") or None


def post_json(url: str, payload: dict) -> int:
    """POST `payload` as JSON; returns the HTTP status, raises on a non-2xx answer."""
    request = urllib.request.Request(
        url,
        data=json.dumps(payload, default=str).encode(),
        headers={"Content-Type": "application/json", "User-Agent": "agent-telemetry-warehouse"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
        return response.status
