"""Great Expectations' expectation classes, imported when the first suite is built.

Importing GX takes four to six seconds. The Dagster definitions, every `atw` command and each
test process load the suites; only a validation needs GX, so the import waits for it.
"""

from __future__ import annotations

import importlib
import os
from typing import Any


class _Expectations:
    """Stands for `great_expectations.expectations`; attribute access imports it."""

    def __getattr__(self, name: str) -> Any:
        os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
        return getattr(importlib.import_module("great_expectations.expectations"), name)


gxe = _Expectations()
