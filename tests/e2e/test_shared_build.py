"""A copy of a shared build (`create database ... template`) is the warehouse the pipeline
built: the same rows, owners, grants, default privileges, row-level security and policies,
and the same privileges on the database itself."""

from ingestion.core.connections import connect
from tests.conftest import content_checksums, mart_checksums, template_lock

CATALOGUE = {
    "relations": "select n.nspname, c.relname, c.relkind, pg_get_userbyid(c.relowner), "
    "c.relacl::text, c.relrowsecurity, c.relforcerowsecurity "
    "from pg_class as c join pg_namespace as n on n.oid = c.relnamespace "
    "where n.nspname not in ('pg_catalog', 'information_schema', 'pg_toast')",
    "schemas": "select nspname, pg_get_userbyid(nspowner), nspacl::text from pg_namespace",
    "functions": "select p.oid::regprocedure::text, pg_get_userbyid(p.proowner), "
    "p.proacl::text from pg_proc as p join pg_namespace as n "
    "on n.oid = p.pronamespace where n.nspname not in "
    "('pg_catalog', 'information_schema')",
    "default privileges": "select defaclrole::regrole::text, defaclnamespace::regnamespace::text, "
    "defaclobjtype, defaclacl::text from pg_default_acl",
    "policies": "select schemaname, tablename, policyname, permissive, roles::text, cmd, qual, "
    "with_check from pg_policies",
    "database": "select a.grantee::regrole::text, a.privilege_type, a.is_grantable "
    "from pg_database as d, aclexplode(d.datacl) as a "
    "where d.datname = current_database()",
    "database settings": "select s.setrole, s.setconfig::text from pg_db_role_setting as s "
    "join pg_database as d on d.oid = s.setdatabase "
    "where d.datname = current_database()",
}


def _catalogue(url: str) -> dict[str, set]:
    with connect(url) as conn:
        return {name: set(conn.execute(query).fetchall()) for name, query in CATALOGUE.items()}


def test_a_copy_of_the_secured_build_is_faithful(secured_build, secured_clone):
    with template_lock(secured_build):
        built = _catalogue(secured_build.urls.warehouse)
        built_marts = mart_checksums(secured_build.urls.warehouse)
        built_raw = content_checksums(secured_build.urls.warehouse)
    copied = _catalogue(secured_clone.warehouse)
    assert built["relations"] and built["policies"] and built["default privileges"]
    assert {("atw_loader", "CREATE", False), ("atw_transformer", "CREATE", False)} <= built[
        "database"
    ]
    assert copied == built
    assert mart_checksums(secured_clone.warehouse) == built_marts
    assert content_checksums(secured_clone.warehouse) == built_raw
