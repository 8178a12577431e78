"""Notifications to one configurable webhook (ATW_WEBHOOK_URL): no URL, no notification."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from ingestion.core import settings

TIMEOUT_SECONDS = 10


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """urllib would follow a redirect of a POST as a GET without the body, and its 2xx would
    pass for a delivered notification."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        raise urllib.error.HTTPError(req.full_url, code, f"redirected to {newurl}", headers, fp)


_OPENER = urllib.request.build_opener(_NoRedirect)


def webhook_url() -> str | None:
    return settings.get("ATW_WEBHOOK_URL")


def post_json(url: str, payload: dict) -> int:
    """POST `payload` as JSON; returns the HTTP status, raises on a non-2xx answer."""
    request = urllib.request.Request(
        url,
        data=json.dumps(payload, default=str).encode(),
        headers={"Content-Type": "application/json", "User-Agent": "agent-telemetry-warehouse"},
        method="POST",
    )
    with _OPENER.open(request, timeout=TIMEOUT_SECONDS) as response:
        return response.status
