"""dbt's partial-parse state is kept per connection and vars, and only the newest few."""

from orchestration.defs.dbt import parse_state

ENV = {"ATW_PG_HOST": "/tmp", "ATW_PG_PORT": "5432", "ATW_PG_USER": "me", "ATW_PG_DBNAME": "wh"}


def test_the_key_follows_the_connection_and_the_vars_only():
    key = parse_state.state_key(ENV, {"a": 1})
    assert parse_state.state_key({**ENV, "ATW_PG_PASSWORD": "s3cret"}, {"a": 1}) == key
    assert parse_state.state_key({**ENV, "ATW_PG_DBNAME": "other"}, {"a": 1}) != key
    assert parse_state.state_key({**ENV, "ATW_DBT_ROLE": "atw_transformer"}, {"a": 1}) != key
    assert parse_state.state_key(ENV, {"a": 2}) != key


def test_a_kept_state_seeds_the_next_invocation_with_the_same_key(tmp_path, monkeypatch):
    monkeypatch.setattr(parse_state, "DBT_PROJECT_DIR", tmp_path)
    first = parse_state.invocation_folder("dbt_staging-abc", "k1")
    assert not (first / parse_state.FILE_NAME).exists()
    (first / parse_state.FILE_NAME).write_bytes(b"state one")
    parse_state.keep(first, "k1")

    second = parse_state.invocation_folder("dbt_marts-abc", "k1")
    assert second != first
    assert (second / parse_state.FILE_NAME).read_bytes() == b"state one"
    other = parse_state.invocation_folder("dbt_marts-abc", "k2")
    assert not (other / parse_state.FILE_NAME).exists()


def test_a_failed_invocation_keeps_nothing_and_old_states_are_pruned(tmp_path, monkeypatch):
    monkeypatch.setattr(parse_state, "DBT_PROJECT_DIR", tmp_path)
    parse_state.keep(parse_state.invocation_folder("dbt_staging-x", "none"), "none")
    assert not parse_state.states_folder().exists()
    for index in range(parse_state.KEPT + 3):
        folder = parse_state.invocation_folder("dbt_staging-x", f"k{index}")
        (folder / parse_state.FILE_NAME).write_bytes(b"state")
        parse_state.keep(folder, f"k{index}")
    kept = sorted(p.name for p in parse_state.states_folder().iterdir())
    assert len(kept) == parse_state.KEPT
    assert "k0.msgpack" not in kept
