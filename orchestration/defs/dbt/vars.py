"""ATW_DBT_VARS: the deployment's overrides of dbt_project.yml's vars, checked before any of
them reaches a model's SQL (dbt pastes vars into queries)."""

from __future__ import annotations

import json
import math
import re

import yaml

from ingestion.core import settings
from ingestion.core.settings import DBT_PROJECT_DIR

_TIMEZONE = re.compile(r"[A-Za-z][A-Za-z0-9_+/-]{0,63}")


def _number(value) -> bool:
    """A finite JSON number (NaN would be written into SQL as it is)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _same_kind(value, default) -> bool:
    if _number(default):
        return _number(value)
    if isinstance(default, list):
        return (
            isinstance(value, list)
            and len(value) == len(default)
            and all(_number(v) for v in value)
        )
    return isinstance(value, str)


def deployment_vars() -> dict:
    """The overrides in ATW_DBT_VARS (a JSON object), each a var dbt_project.yml declares, of
    the same kind as its default (a number, a list of as many numbers); `report_timezone` an
    IANA name (the dbt macro of that name also checks it against the server's list).
    ValueError names the var and says what is wrong, never echoing the value."""
    text = settings.get("ATW_DBT_VARS") or "{}"
    try:
        overrides = json.loads(text)
    except ValueError:
        raise ValueError("ATW_DBT_VARS must be a JSON object") from None
    if not isinstance(overrides, dict):
        raise ValueError("ATW_DBT_VARS must be a JSON object")
    project = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text())
    defaults = {**project.get("vars", {}), "report_timezone": "UTC"}
    for name, value in overrides.items():
        if name not in defaults:
            raise ValueError(f"ATW_DBT_VARS: {name!r} is not a var of dbt_project.yml")
        if not _same_kind(value, defaults[name]):
            raise ValueError(
                f"ATW_DBT_VARS: {name} must be of the same kind as its default in dbt_project.yml"
            )
        if name == "report_timezone" and not _TIMEZONE.fullmatch(value):
            raise ValueError("ATW_DBT_VARS: report_timezone must be an IANA time zone name")
    return overrides
