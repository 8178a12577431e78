"""What sqlfluff's jinja templater lacks of dbt's context for this project's macros.

sqlfluff (`.sqlfluff`, templater = jinja) supplies `ref`, `source`, `var`, `config`, `this`,
`is_incremental` and `return`; our macros also use `modules.re`, `exceptions` and `env_var`
(its default: a lint reads no environment). `execute` is
false there (set in `.sqlfluff`), so no macro reaches `run_query`, `adapter` or
`load_relation`: linting needs no database.
"""

import re as _re
from types import SimpleNamespace as _Namespace


def _raise_compiler_error(message: str) -> None:
    raise RuntimeError(message)


def env_var(name: str, default: str = "") -> str:
    return default


modules = _Namespace(re=_re)
exceptions = _Namespace(raise_compiler_error=_raise_compiler_error)
