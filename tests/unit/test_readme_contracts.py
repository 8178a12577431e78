"""The README's record-contract table is the declarations' own (`atw contracts`)."""

from ingestion.contract_fields import contract_table
from ingestion.contracts import CONTRACTS
from ingestion.settings import PROJECT_ROOT


def test_the_readme_shows_the_contracts_as_declared():
    readme = (PROJECT_ROOT / "README.md").read_text()
    start = readme.index("<!-- contracts:start -->\n") + len("<!-- contracts:start -->\n")
    end = readme.index("\n<!-- contracts:end -->")
    assert readme[start:end] == contract_table(CONTRACTS), (
        "README's contract table is stale: paste the output of `atw contracts`")
