"""Headless Chromium for UI tests: the system's Chromium driven by Playwright.

Playwright's own browser downloads are never used (they need a network the machines may not
have); Debian's `chromium` package is, and tests skip where neither it nor Playwright is found.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
# Without these, Chromium on a machine without network access hangs at start-up, waiting on
# Google's services (sync, component updates, QUIC probes); root also needs --no-sandbox.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def find_chromium() -> str | None:
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


def skip_reason() -> str | None:
    """Why a browser test cannot run here, or None when it can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install playwright; no browser download needed)"
    if find_chromium() is None:
        return (
            f"no Chromium on PATH (looked for {', '.join(CHROMIUM_NAMES)}); "
            "on Debian: apt-get install chromium"
        )
    return None


@contextmanager
def chromium_page(
    width: int = 1600, height: int = 1000, scale: float = 1, init_script: str | None = None
) -> Iterator:
    """A page of a fresh headless Chromium profile (Playwright gives each launch its own
    user data directory, so nothing leaks between runs)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=find_chromium(), headless=True, args=CHROMIUM_ARGS, timeout=60_000
        )
        try:
            context = browser.new_context(
                viewport={"width": width, "height": height}, device_scale_factor=scale
            )
            if init_script:
                context.add_init_script(init_script)
            yield context.new_page()
        finally:
            browser.close()
