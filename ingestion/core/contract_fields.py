"""The building blocks of the record contracts (`contracts.py`): each field declared once.

A field is an annotated type made by one of the functions below. It carries a `Rule`: the raw
column the value lands in and what the value must be to fit it. The declaration is read three
ways:

- pydantic validates every record against it at the boundary, and every string is redacted as
  it is validated (`check` turns a failed validation into one quarantine reason per record);
- `route_sql` writes the rules as a SQL condition that sends the collector's rows which may
  break one (or hold a secret) through Python instead of the direct COPY;
- `violation_sql` writes them as the raw tables' blocking check, so a record the loader
  accepted can never fail it.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, ClassVar, get_args, get_origin

from pydantic import (
    AfterValidator,
    AliasChoices,
    AliasGenerator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    ValidationError,
    ValidationInfo,
)
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

from ingestion.core import quarantine, redaction, settings
from ingestion.core.quarantine import RowRejected

INT32_MAX = 2**31 - 1
# A token count of one call: the models add up to four token types of a call as an integer.
TOKENS_MAX = 2**29 - 1
# numeric(12, 8): the largest value that still fits once rounded to 8 decimals.
COST_MAX = 9999.99999999
MAX_FUTURE = timedelta(hours=24)

# Text sizes, in characters.
ID_CHARS = 512
NAME_CHARS = 256
PATH_CHARS = 4096
TEXT_CHARS = 65_536
JSON_BYTES = 262_144


def timestamp_floor() -> datetime:
    """ATW_TIMESTAMP_FLOOR (a date, default 2020-01-01): anything older is quarantined."""
    value = settings.get("ATW_TIMESTAMP_FLOOR")
    try:
        floor = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError("ATW_TIMESTAMP_FLOOR must be an ISO date such as 2020-01-01") from None
    return floor if floor.tzinfo else floor.replace(tzinfo=UTC)


def max_message_chars() -> int:
    """ATW_MAX_MESSAGE_CHARS (default 1,000,000): longer message texts are quarantined."""
    return settings.integer("ATW_MAX_MESSAGE_CHARS", 1)


def max_json_depth() -> int:
    """ATW_MAX_JSON_DEPTH (default 32): JSON values nested deeper are quarantined."""
    return settings.integer("ATW_MAX_JSON_DEPTH", 1)


@dataclass
class LoadContext:
    """What validation needs beyond the record: the load's clock (the warehouse's), the
    accepted window, the key that fingerprints redacted identifiers, and the redactions made
    in the record being validated."""

    now: datetime
    fingerprint_key: bytes
    floor: datetime = field(default_factory=timestamp_floor)
    max_depth: int = field(default_factory=max_json_depth)
    max_message_chars: int = field(default_factory=max_message_chars)
    redactions: Counter = field(default_factory=Counter)
    # Set by `check` when the record's whole source text holds nothing a secret could be: its
    # strings are then stored without a search each.
    clean: bool = False


def load_context(conn) -> LoadContext:
    """The context of a load in `conn`'s current transaction: the warehouse's clock (the
    `_loaded_at` its rows get) and the warehouse's fingerprint key."""
    now, key = conn.execute("select now(), key from raw.redaction_key").fetchone()
    return LoadContext(now=now, fingerprint_key=key.encode())


@dataclass(frozen=True)
class Rule:
    """What a field must be, and the raw column it lands in (None: read, not stored as is)."""

    column: str | None
    kind: str  # text | enum | integer | number | boolean | timestamp | json
    required: bool = False
    max_chars: int | None = None
    values: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    max_bytes: int | None = None
    epoch_ms: bool = False
    # The keys `shape_sql` reads: a value without any of them keeps its shape.
    shape_keys: tuple[str, ...] = ()
    # SQL over the (unwrapped) jsonb column: the reason a value breaks its shape, or null.
    shape_sql: Callable[[str], str] | None = None


def contract_error(reason: str, path: str = "") -> PydanticCustomError:
    """A broken rule, raised inside validation: `path` names the part of the field (from code,
    never from data)."""
    return PydanticCustomError(reason, "{reason}", {"reason": reason, "path": path})


def _context(info: ValidationInfo) -> LoadContext:
    return info.context


def _default(required: bool) -> Any:
    return Field() if required else Field(None)


# --- text -------------------------------------------------------------------------------


def _has_surrogates(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _clean_text(value: str, context: LoadContext, fingerprinted: bool, max_chars: int) -> str:
    if "\x00" in value:
        raise contract_error(quarantine.NUL_BYTE)
    if _has_surrogates(value):
        raise contract_error(quarantine.INVALID_UTF8)
    if context.clean:
        found = None
    else:
        redacted, found = redaction.redact(value)
    if found:
        context.redactions.update(found)
        if fingerprinted:
            redacted = redaction.fingerprint(redacted, value, context.fingerprint_key)
    else:
        redacted = value
    if len(redacted) > max_chars:
        raise contract_error(quarantine.OVERSIZE)
    return redacted


def _text(column: str | None, max_chars: int | None, required: bool, fingerprinted: bool):
    """`max_chars` None: ATW_MAX_MESSAGE_CHARS (message text), read when the load starts."""

    def validate(value: str | None, info: ValidationInfo) -> str | None:
        if value is None or (required and value == "" and max_chars is not None):
            if required:
                raise contract_error(quarantine.MISSING_REQUIRED_KEY)
            return value
        context = _context(info)
        return _clean_text(
            value,
            context,
            fingerprinted,
            context.max_message_chars if max_chars is None else max_chars,
        )

    rule = Rule(column, "text", required, max_chars=max_chars)
    return Annotated[str | None, Strict(), AfterValidator(validate), _default(required), rule]


def identifier(column: str | None, *, required: bool = False, max_chars: int = ID_CHARS):
    """An id, name or path: redacted, and when it held a secret, fingerprinted so that two
    ids stay two (sessions, paths and keys group as before)."""
    return _text(column, max_chars, required, fingerprinted=True)


def name(column: str | None, *, required: bool = False, max_chars: int = NAME_CHARS):
    return identifier(column, required=required, max_chars=max_chars)


def path(column: str | None, *, required: bool = False):
    return identifier(column, required=required, max_chars=PATH_CHARS)


def text(column: str | None, *, required: bool = False, max_chars: int | None = TEXT_CHARS):
    """Free text: redacted, not fingerprinted. Message text (`max_chars` None) may be empty."""
    return _text(column, max_chars, required, fingerprinted=False)


def enum(
    column: str,
    values: tuple[str, ...],
    *,
    required: bool = False,
    aliases: dict[str, str] | None = None,
):
    aliases = aliases or {}

    def validate(value: str | None) -> str | None:
        if value is None:
            if required:
                raise contract_error(quarantine.MISSING_REQUIRED_KEY)
            return None
        value = aliases.get(value, value)
        if value not in values:
            raise contract_error(quarantine.UNKNOWN_ENUM)
        return value

    rule = Rule(column, "enum", required, values=values)
    return Annotated[str | None, Strict(), AfterValidator(validate), _default(required), rule]


# --- numbers, booleans ---------------------------------------------------------------------


def _whole(value: Any) -> Any:
    """JSON writers may print whole numbers as 1000.0 or 1e3: accept them as integers."""
    if isinstance(value, float):
        if not math.isfinite(value):
            raise contract_error(quarantine.NON_FINITE)
        if value.is_integer():
            return int(value)
    return value


def integer(
    column: str | None, *, required: bool = False, minimum: int = 0, maximum: int = INT32_MAX
):
    """A whole number that fits its column (integer unless `maximum` says bigint)."""
    rule = Rule(column, "integer", required, minimum=minimum, maximum=maximum)
    bounds = Field(ge=minimum, le=maximum) if required else Field(None, ge=minimum, le=maximum)
    return Annotated[
        int | None, Strict(), bounds, BeforeValidator(_whole), _required_not_null(required), rule
    ]


def _required_not_null(required: bool) -> AfterValidator:
    def validate(value):
        if value is None and required:
            raise contract_error(quarantine.MISSING_REQUIRED_KEY)
        return value

    return AfterValidator(validate)


def _number(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float | None):
        raise contract_error(quarantine.WRONG_TYPE)
    if isinstance(value, float) and not math.isfinite(value):
        raise contract_error(quarantine.NON_FINITE)
    return value


def cost(column: str | None):
    """USD, numeric(12, 8): non-negative, finite, under 10,000."""
    rule = Rule(column, "number", minimum=0, maximum=COST_MAX)
    return Annotated[float | None, Field(None, ge=0, le=COST_MAX), BeforeValidator(_number), rule]


def boolean(column: str | None, *, required: bool = False):
    rule = Rule(column, "boolean", required)
    return Annotated[bool | None, Strict(), _default(required), _required_not_null(required), rule]


# --- timestamps ----------------------------------------------------------------------------


def _timestamp(epoch_ms: bool, required: bool):
    def validate(value: Any, info: ValidationInfo) -> datetime | None:
        if value is None:
            if required:
                raise contract_error(quarantine.MISSING_REQUIRED_KEY)
            return None
        context = _context(info)
        try:
            if isinstance(value, bool):
                raise ValueError
            if epoch_ms and isinstance(value, int | float):
                parsed = datetime.fromtimestamp(value / 1000, tz=UTC)
            elif isinstance(value, datetime):
                parsed = (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
            elif isinstance(value, str):
                parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
                if parsed.tzinfo is None:
                    parsed = parsed.replace(tzinfo=UTC)
                parsed = parsed.astimezone(UTC)
            else:
                raise ValueError
        except (ValueError, OverflowError, OSError):
            raise contract_error(quarantine.BAD_TIMESTAMP) from None
        if parsed < context.floor:
            raise contract_error(quarantine.BEFORE_FLOOR)
        if parsed > context.now + MAX_FUTURE:
            raise contract_error(quarantine.FUTURE_TIMESTAMP)
        return parsed

    return validate


def timestamp(column: str | None, *, required: bool = False, epoch_ms: bool = False):
    """ISO-8601 (naive means UTC), or with `epoch_ms` also epoch milliseconds; inside the
    accepted window: not before ATW_TIMESTAMP_FLOOR, not more than 24 h past the load."""
    rule = Rule(column, "timestamp", required, epoch_ms=epoch_ms)
    return Annotated[
        datetime | None, BeforeValidator(_timestamp(epoch_ms, required)), _default(required), rule
    ]


# --- JSON ----------------------------------------------------------------------------------

# ASCII only and case-folded by the regex, as PostgreSQL's `~*` folds: `.lower()` would also fold
# the Kelvin sign into a k.
_SECRET_KEY = re.compile(
    r"(?:password|passwd|pwd|secret|token|apikey|api_key|api-key"
    r"|privatekey|private_key|private-key|credentials?)\Z",
    re.IGNORECASE | re.ASCII,
)


def _walk(value: Any, context: LoadContext, depth: int) -> Any:
    """A JSON value with every string redacted (keys too, fingerprinted; the values of keys
    such as `password` or `apiKey` replaced whole), or a custom error."""
    if depth > context.max_depth:
        raise contract_error(quarantine.TOO_DEEP)
    if isinstance(value, str):
        return _clean_text(value, context, fingerprinted=False, max_chars=JSON_BYTES)
    if isinstance(value, bool) or value is None or isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise contract_error(quarantine.NON_FINITE)
        return value
    if isinstance(value, list):
        return [_walk(item, context, depth + 1) for item in value]
    if isinstance(value, dict):
        walked = {}
        for key, item in value.items():
            clean_key = _clean_text(str(key), context, fingerprinted=True, max_chars=JSON_BYTES)
            if isinstance(item, str) and item and _SECRET_KEY.search(clean_key):
                context.redactions["password"] += 1
                walked[clean_key] = f"{redaction.MARKER}password]"
            else:
                walked[clean_key] = _walk(item, context, depth + 1)
        return walked
    raise contract_error(quarantine.WRONG_TYPE)


def unwrap(value: Any) -> Any:
    """A JSON string holding a JSON object or array (double-encoded) is that object or array,
    as staging's `unwrap_jsonb` reads it (whitespace around it allowed)."""
    if isinstance(value, str) and value.lstrip(" \t\n\r")[:1] in ("{", "["):
        try:
            inner = json.loads(value)
        except json.JSONDecodeError:
            return value
        except RecursionError:
            raise contract_error(quarantine.TOO_DEEP) from None
        except ValueError:  # an integer of more digits than Python converts: jsonb would
            raise contract_error(quarantine.OUT_OF_RANGE) from None
        if isinstance(inner, dict | list):
            return inner
    return value


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def _json(shape: Callable[[Any], None] | None, max_bytes: int, as_received: bool):
    def validate(value: Any, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        context = _context(info)
        inner = unwrap(value)
        walked = _walk(inner, context, 1)
        if shape is not None:
            shape(walked)
        # As received, a double-encoded value stays a JSON string (staging unwraps it).
        text = dumps(dumps(walked) if as_received and inner is not value else walked)
        if len(text.encode("utf-8")) > max_bytes:
            raise contract_error(quarantine.OVERSIZE)
        return text

    return validate


def json_value(
    column: str | None,
    *,
    shape: Callable[[Any], None] | None = None,
    shape_sql: Callable[[str], str] | None = None,
    shape_keys: tuple[str, ...] = (),
    max_bytes: int = JSON_BYTES,
    as_received: bool = True,
):
    """Any JSON value, stored as jsonb text: at most ATW_MAX_JSON_DEPTH deep and `max_bytes`
    long, finite numbers only, every string redacted; `shape` checks what the models read of
    it (and `shape_sql` is the same check in SQL). A double-encoded value is stored as received
    (a JSON string) unless `as_received` is false."""
    rule = Rule(column, "json", max_bytes=max_bytes, shape_sql=shape_sql, shape_keys=shape_keys)
    return Annotated[Any, AfterValidator(_json(shape, max_bytes, as_received)), Field(None), rule]


def number_in(value: Any, path: str, maximum: float) -> None:
    """For a `shape`: an optional number in [0, maximum] at `path`."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise contract_error(quarantine.WRONG_TYPE, path)
    if isinstance(value, float) and not math.isfinite(value):
        raise contract_error(quarantine.NON_FINITE, path)
    if value < 0:
        raise contract_error(quarantine.NEGATIVE_VALUE, path)
    if value > maximum:
        raise contract_error(quarantine.OUT_OF_RANGE, path)


# --- records -------------------------------------------------------------------------------


class Record(BaseModel):
    """A source record: unknown fields are ignored; each field is also read in camelCase
    (`source_case` says how the source itself spells them, for the documentation)."""

    source_case: ClassVar[str] = "snake"
    model_config = ConfigDict(
        extra="ignore",
        alias_generator=AliasGenerator(
            validation_alias=lambda field_name: AliasChoices(field_name, to_camel(field_name))
        ),
    )


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_PATH = re.compile(r"[A-Za-z0-9_.]{1,64}")


def _reason(error: dict) -> str:
    kind = error["type"]
    if kind in quarantine.REASON_CODES:
        return kind
    if kind == "missing" or (error.get("input", 0) is None):
        return quarantine.MISSING_REQUIRED_KEY
    if kind == "greater_than_equal":
        return (
            quarantine.NEGATIVE_VALUE
            if (error.get("ctx") or {}).get("ge") == 0
            else quarantine.OUT_OF_RANGE
        )
    if kind in ("less_than_equal", "less_than", "greater_than"):
        return quarantine.OUT_OF_RANGE
    if kind in ("string_too_long", "too_long"):
        return quarantine.OVERSIZE
    if kind == "finite_number":
        return quarantine.NON_FINITE
    return quarantine.WRONG_TYPE


def parse_json(text: str | bytes) -> Any:
    """A record's JSON, or RowRejected: malformed, or nested too deep for the parser."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise RowRejected(quarantine.MALFORMED_JSON, f"column {error.colno}") from None
    except RecursionError:
        raise RowRejected(quarantine.TOO_DEEP, "nesting") from None
    except UnicodeDecodeError:
        raise RowRejected(quarantine.INVALID_UTF8, "not UTF-8") from None
    except ValueError:  # e.g. an integer of more digits than Python will convert
        raise RowRejected(quarantine.MALFORMED_JSON, "number") from None


def _where(error: dict, known: frozenset[str]) -> str:
    """The field's path: declared names and list positions only, never a value."""
    parts = [
        str(p) if isinstance(p, int) or (p in known and _NAME.fullmatch(p)) else "*"
        for p in error["loc"]
    ]
    extra = (error.get("ctx") or {}).get("path")
    if extra and _PATH.fullmatch(extra):
        parts.append(extra)
    return ".".join(parts) or "record"


# JSON escapes of printable ASCII (`\u0070assword`, `:\/\/`): they hide words from a search of
# the text, so text with one gets each of its strings searched instead.
_ESCAPED_ASCII = re.compile(r"\\u00[2-7][0-9a-fA-F]|\\/")
_ESCAPED_ASCII_BYTES = re.compile(_ESCAPED_ASCII.pattern.encode())


def is_clean(source_text: str | bytes) -> bool:
    """Whether a record's JSON, as it arrived, holds nothing a secret could be: then none of
    its strings needs a search of its own (`check(..., clean=True)`)."""
    escaped = _ESCAPED_ASCII_BYTES if isinstance(source_text, bytes) else _ESCAPED_ASCII
    return not escaped.search(source_text) and not redaction.may_hold_secret(source_text)


def check(model: type[Record], data: Any, context: LoadContext, clean: bool = False) -> Record:
    """The validated record, or RowRejected with the first broken rule's reason and every
    broken field's path and reason in the detail. `clean`: `is_clean` said so of its text."""
    context.redactions = Counter()
    context.clean = clean
    try:
        return model.model_validate(data, context=context)
    except ValidationError as failed:
        errors = failed.errors(include_url=False, include_context=True, include_input=True)
    known = field_names(model)
    reasons = [(_where(e, known), _reason(e)) for e in errors]
    detail = "; ".join(f"{where}: {reason}" for where, reason in reasons)
    raise RowRejected(reasons[0][1], detail[:500]) from None


# --- reading the declarations back ---------------------------------------------------------


def _submodels(annotation: Any) -> list[type[Record]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in get_args(annotation) for m in _submodels(arg)]


def field_names(model: type[BaseModel]) -> frozenset[str]:
    names = set()
    for field_name, info in model.model_fields.items():
        names.update((field_name, to_camel(field_name)))
        if isinstance(info.validation_alias, AliasChoices):
            names.update(c for c in info.validation_alias.choices if isinstance(c, str))
        for sub in _submodels(info.annotation):
            names |= field_names(sub)
    return frozenset(names)


def rules(model: type[BaseModel], enclosing_required: bool = True) -> list[Rule]:
    """Every rule of the record that lands in a raw column, nested models included (a rule
    inside an optional sub-record is not required of the row)."""
    found = []
    for info in model.model_fields.values():
        for item in info.metadata:
            if isinstance(item, Rule) and item.column:
                found.append(item if enclosing_required else _optional(item))
        annotation = info.annotation
        if get_origin(annotation) is list:
            continue  # a list's items do not land in columns of the row
        for sub in _submodels(annotation):
            found += rules(sub, enclosing_required and info.is_required())
    return found


def _optional(rule: Rule) -> Rule:
    return Rule(**{**rule.__dict__, "required": False})


# --- the same rules in SQL -----------------------------------------------------------------


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _conditions(rule: Rule, c: str, loaded_at: str, floor: str) -> list[tuple[str, str]]:
    """(reason, SQL condition) pairs: the row breaks the rule when the condition is true."""
    found = []
    if rule.required:
        empty = f" or {c} = ''" if rule.kind == "text" and rule.max_chars else ""
        found.append((quarantine.MISSING_REQUIRED_KEY, f"{c} is null{empty}"))
    if rule.kind == "text":
        found.append(
            (quarantine.OVERSIZE, f"length({c}) > {rule.max_chars or max_message_chars()}")
        )
    elif rule.kind == "enum":
        values = ", ".join(_literal(v) for v in rule.values)
        found.append((quarantine.UNKNOWN_ENUM, f"{c} not in ({values})"))
    elif rule.kind in ("integer", "number"):
        low = quarantine.NEGATIVE_VALUE if rule.minimum == 0 else quarantine.OUT_OF_RANGE
        found.append((low, f"{c} < {rule.minimum}"))
        found.append((quarantine.OUT_OF_RANGE, f"{c} > {rule.maximum}"))
    elif rule.kind == "timestamp":
        found.append((quarantine.BEFORE_FLOOR, f"{c} < {floor}"))
        found.append(
            (
                quarantine.FUTURE_TIMESTAMP,
                f"{c} > {loaded_at} + interval '{int(MAX_FUTURE.total_seconds())} seconds'",
            )
        )
    return found


def _looks_like_json(c: str) -> str:
    """SQL: `c` is a JSON string whose text starts like an object or an array."""
    return (
        f"jsonb_typeof({c}) = 'string' "
        f"and left(ltrim({c} #>> '{{}}', E' \\t\\n\\r'), 1) in ('{{', '[')"
    )


def _unwrapped(c: str) -> str:
    """SQL: a double-encoded object or array unwrapped, as `unwrap` does (PostgreSQL 16+)."""
    return (
        f"(case when {_looks_like_json(c)} and pg_input_is_valid({c} #>> '{{}}', 'jsonb') "
        f"then ({c} #>> '{{}}')::jsonb else {c} end)"
    )


def violation_sql(model: type[Record], alias: str, loaded_at: str) -> str:
    """SQL: `reason(column)` of the first rule a raw row breaks, or null. Mirrors `check` for
    everything SQL can see of a stored value (JSON depth and size are checked at the boundary
    only: PostgreSQL prints jsonb differently from how it arrived)."""
    floor = f"{_literal(timestamp_floor().isoformat())}::timestamptz"
    whens = []
    for rule in rules(model):
        c = f"{alias}.{rule.column}"
        for reason, condition in _conditions(rule, c, loaded_at, floor):
            whens.append(f"when {condition} then '{reason}({rule.column})'")
        if rule.kind == "json" and rule.shape_sql:
            whens.append(
                f"when ({rule.shape_sql(_unwrapped(c))}) is not null "
                f"then ({rule.shape_sql(_unwrapped(c))}) || '({rule.column})'"
            )
    return "case " + " ".join(whens) + " end" if whens else "null::text"


def route_sql(model: type[Record], alias: str, now: str, unwraps: bool = True) -> str:
    """SQL: whether a source row (columns named as the record's fields) may break a rule, and
    must go through Python. Never false for a row that `check` would reject; true for a few
    more. (Secrets are looked for in Python, on the COPY stream: `redaction.may_hold_secret`.)
    Without `unwraps` (a server older than PostgreSQL 16, which lacks `pg_input_is_valid`),
    every double-encoded object or array goes through Python."""
    floor = f"{_literal(timestamp_floor().isoformat())}::timestamptz"
    conditions = []
    for rule in rules(model):
        c = f"{alias}.{rule.column}"
        conditions += [condition for _, condition in _conditions(rule, c, now, floor)]
        if rule.kind == "json":
            conditions += _json_route(rule, c, unwraps)
    return "(" + " or ".join(f"coalesce({c}, false)" for c in conditions) + ")"


def _json_route(rule: Rule, c: str, unwraps: bool) -> list[str]:
    """What may make a JSON value fail in Python, cheapest tests first (most values are short
    and plain)."""
    text, inner = f"{c}::text", f"{c} #>> '{{}}'"
    depth = max_json_depth()
    conditions = [
        f"octet_length({text}) > {rule.max_bytes}",
        # At least `depth` brackets: perhaps nested that deep.
        f"length({text}) >= {depth} and length({text}) - length(translate({text}, '[{{', ''))"
        f" >= {depth}",
        # A number of 300 digits or more: Python reads it as infinity, or not at all.
        # (PostgreSQL counts to 255 at most in one bound.)
        f"length({text}) >= 300 and {text} ~ '[0-9]{{150}}[0-9]{{150}}'",
        # A double-encoded value with escapes inside (`\\u0070assword`): Python reads them.
        f"jsonb_typeof({c}) = 'string' and strpos({inner}, E'\\\\') > 0",
        # One that looks like JSON but is none jsonb would hold (a \u0000, say).
        (
            f"{_looks_like_json(c)} and not pg_input_is_valid({inner}, 'jsonb')"
            if unwraps
            else _looks_like_json(c)
        ),
    ]
    if rule.shape_sql:
        # An object is read as it is (a key lookup). A double-encoded value is not parsed: each
        # key the shape reads must be absent, or there once with a plain count (`"k": 123`);
        # anything else goes to Python.
        conditions.append(f"jsonb_typeof({c}) = 'object' and ({rule.shape_sql(c)}) is not null")
        plain = " and ".join(
            f"(strpos({inner}, '{key}') = 0 or (length({inner}) - length(replace({inner}, "
            f"'{key}', '')) = {len(key)} and {inner} ~ "
            f"'\"{key}\"[[:space:]]*:[[:space:]]*[0-9]{{1,9}}[[:space:]]*[,}}]'))"
            for key in rule.shape_keys
        )
        conditions.append(f"jsonb_typeof({c}) = 'string' and not ({plain})")
    return conditions


# --- the declarations as a table (README, `atw contracts`) --------------------------------


def _describe(rule: Rule) -> str:
    if rule.kind == "text":
        size = (
            f"at most {rule.max_chars:,} characters"
            if rule.max_chars
            else "at most ATW_MAX_MESSAGE_CHARS characters"
        )
        return f"text, {size}, no NUL, redacted"
    if rule.kind == "enum":
        return "one of " + ", ".join(f"`{v}`" for v in rule.values)
    if rule.kind == "integer":
        return f"whole number, {rule.minimum:,} to {rule.maximum:,}"
    if rule.kind == "number":
        return f"number, {rule.minimum:g} to {rule.maximum}"
    if rule.kind == "boolean":
        return "true or false"
    if rule.kind == "timestamp":
        forms = "ISO 8601 or epoch milliseconds" if rule.epoch_ms else "ISO 8601"
        return (
            f"timestamp ({forms}; no offset means UTC), ATW_TIMESTAMP_FLOOR to 24 h after the load"
        )
    shape = ", its counts numbers that fit" if rule.shape_sql else ""
    return (
        f"any JSON, at most ATW_MAX_JSON_DEPTH deep and {rule.max_bytes:,} bytes, finite "
        f"numbers, every string redacted{shape}"
    )


def contract_rows(
    model: type[BaseModel], prefix: str = "", inside: str | None = None
) -> list[tuple[str, str, str, str]]:
    """(field as the source spells it, raw column, rule, required) for every declared field;
    `inside`: the JSON column a list's items are kept in."""
    rows = []
    camel = getattr(model, "source_case", "snake") == "camel"
    # Where a field without a column of its own goes: Claude Code's text fields to
    # content_text; the agent CLIs' readers count such fields into their usage rows.
    unmapped = getattr(model, "unmapped_column", "content_text")
    for field_name, info in model.model_fields.items():
        spelled = to_camel(field_name) if camel else field_name
        if info.alias_priority == 2 and isinstance(info.validation_alias, AliasChoices):
            # A field with names of its own: (ours, the camelCase source's, ...).
            spelled = info.validation_alias.choices[1 if camel else 0]
        path = f"{prefix}{spelled}"
        rule = next((m for m in info.metadata if isinstance(m, Rule)), None)
        required = "yes" if info.is_required() else ""
        if rule is not None:
            column = rule.column or (f"inside {inside}" if inside else unmapped)
            rows.append((path, column, _describe(rule), required))
            continue
        annotation = info.annotation
        is_list = get_origin(annotation) is list or any(
            get_origin(a) is list for a in get_args(annotation)
        )
        for sub in _submodels(annotation):
            if is_list:
                rows.append(
                    (
                        path,
                        field_name,
                        f"a list of at most {longest:,} objects as below"
                        if (longest := _max_length(info))
                        else "a list",
                        required,
                    )
                )
                rows += contract_rows(sub, f"{path}[].", field_name)
            else:
                rows += contract_rows(sub, f"{path}.", inside)
        if not _submodels(annotation) and unmapped == "content_text":
            rows.append(
                (
                    path,
                    "content_text, tool_uses, tool_results",
                    "any JSON; its text is kept (NUL dropped, broken surrogates replaced, "
                    "redacted); tool calls need a text id and name",
                    required,
                )
            )
        elif not _submodels(annotation):
            rows.append((path, unmapped, "any JSON, read by the reader", required))
    return rows


def _max_length(info) -> int | None:
    return next((m.max_length for m in info.metadata if getattr(m, "max_length", None)), None)


def contract_table(contracts: dict[str, type[BaseModel]]) -> str:
    lines = ["| record | field | lands in | rule | required |", "| --- | --- | --- | --- | --- |"]
    for title, model in contracts.items():
        for field_path, column, rule, required in contract_rows(model):
            lines.append(f"| {title} | `{field_path}` | {column} | {rule} | {required} |")
    return "\n".join(lines)
