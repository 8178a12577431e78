from ingestion.core.connections import libpq_url, redact, sqlalchemy_url, target, with_database


def test_sqlalchemy_and_libpq_urls_convert_both_ways():
    url = "postgresql+psycopg://alice:s3cret@db.example:6543/warehouse"
    assert libpq_url(url) == "postgresql://alice:s3cret@db.example:6543/warehouse"
    assert sqlalchemy_url(libpq_url(url)) == url


def test_redact_hides_passwords_in_netloc_and_query():
    assert "s3cret" not in redact("postgresql://alice:s3cret@db:5432/wh")
    assert redact("postgresql://alice:s3cret@db:5432/wh") == "postgresql://alice:***@db:5432/wh"
    hidden = redact("postgresql:///wh?host=/tmp/sock&password=s3cret")
    assert "s3cret" not in hidden and "host=/tmp/sock" in hidden


def test_target_reads_socket_directory_as_host():
    pg = target("postgresql://postgres:@/warehouse?host=/work/.warehouse/pgdata")
    assert (pg.host, pg.port, pg.user, pg.dbname) == (
        "/work/.warehouse/pgdata",
        5432,
        "postgres",
        "warehouse",
    )


def test_with_database_keeps_query():
    assert with_database("postgresql://u@/a?host=/s", "b") == "postgresql://u@/b?host=/s"


def test_unsupported_scheme_is_a_clear_error():
    import pytest

    with pytest.raises(ValueError, match="unsupported database URL scheme"):
        libpq_url("mysql://u@h/db")
