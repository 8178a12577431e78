"""The record-contract table of docs/sources.md is the declarations' own (`atw contracts`)."""

from ingestion.contracts import CONTRACTS
from ingestion.core.contract_fields import contract_table
from tests.docs_pages import page


def test_the_docs_show_the_contracts_as_declared():
    sources = page("sources.md")
    start = sources.index("<!-- contracts:start -->\n") + len("<!-- contracts:start -->\n")
    end = sources.index("\n<!-- contracts:end -->")
    assert sources[start:end] == contract_table(CONTRACTS), (
        "docs/sources.md's contract table is stale: paste the output of `atw contracts`"
    )
