"""How long analysts wait: the README's questions (docs/marts.md, "Ten questions, answered in
SQL") and seed 002's endpoint functions ("SQL functions"), run as an analyst login with
row-level security on, against a built warehouse. Target (#17): each under 200 ms at 5 M
events.

Each query runs once to warm the cache, then `--repeat` times; it prints the median and the
slowest run, and the marts' size on disk.

    .venv/bin/python benchmarks/analyst_queries.py --url postgresql://... [--repeat 5]

The login given must be able to create roles (`atw roles` must have run). It adds the analyst
login `bench_analyst`, allowed every tenant, for the run and drops it afterwards, and it turns
row-level security on for the run and back to what it was.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ingestion.core.connections import connect, target  # noqa: E402
from tests.docs_pages import page, section  # noqa: E402
from warehouse.roles import add_analyst, set_row_level_security  # noqa: E402

LOGIN = "bench_analyst"
TARGET_MS = 200


def queries() -> list[tuple[str, str]]:
    """(label, SQL) for every documented question and endpoint call, as the docs write them."""
    text = page("marts.md")
    questions = section(text, "## Ten questions, answered in SQL")
    found = [
        (f"question {number}", block.split("```", 1)[0].strip())
        for number, block in enumerate(questions.split("```sql\n")[1:], start=1)
    ]
    functions = section(text, "### SQL functions").split("```sql\n", 1)[1].split("```", 1)[0]
    found += [
        (line.split(";", 1)[0].removeprefix("select * from "), line.split(";", 1)[0] + ";")
        for line in functions.splitlines()
        if line.startswith("select")
    ]
    return found


def _analyst_url(url: str) -> str:
    pg = target(url)
    return f"postgresql://{LOGIN}@/{pg.dbname}?host={pg.host}&port={pg.port}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=os.environ.get("ATW_WAREHOUSE_URL"))
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    if not args.url:
        parser.error("give --url or set ATW_WAREHOUSE_URL")
    with connect(args.url, autocommit=True) as conn:
        tenants = [row[0] for row in conn.execute("select distinct tenant_id from marts.dim_hosts")]
        was_on = conn.execute(
            "select enabled from ops.access_settings where setting = 'row_level_security'"
        ).fetchone()[0]
        add_analyst(conn, LOGIN, tenants)
        set_row_level_security(conn, True)
        calls, size = conn.execute(
            "select (select count(*) from intermediate.int_agent_calls_unioned), "
            "pg_size_pretty(sum(pg_total_relation_size(c.oid))) from pg_class c "
            "join pg_namespace n on n.oid = c.relnamespace "
            "where n.nspname = 'marts' and c.relkind = 'r'"
        ).fetchone()
    print(f"{calls:,} calls in the calls fact; marts {size} on disk")
    print(f"as {LOGIN}, every tenant allowed, row-level security on")
    slow = []
    try:
        with connect(_analyst_url(args.url), autocommit=True) as conn:
            for label, query in queries():
                conn.execute(query).fetchall()
                times = []
                for _ in range(args.repeat):
                    started = time.perf_counter()
                    conn.execute(query).fetchall()
                    times.append((time.perf_counter() - started) * 1000)
                median, worst = statistics.median(times), max(times)
                slow += [label] if worst >= TARGET_MS else []
                print(f"  {label:<45} median {median:7.1f} ms  slowest {worst:7.1f} ms")
    finally:
        with connect(args.url, autocommit=True) as conn:
            set_row_level_security(conn, was_on)
            conn.execute("delete from ops.analyst_tenants where role_name = %s", (LOGIN,))
            conn.execute(f"drop owned by {LOGIN}")
            conn.execute(f"drop role {LOGIN}")
    verdict = "met" if not slow else f"missed by {', '.join(slow)}"
    print(f"target: every query under {TARGET_MS} ms: {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
