"""Root conftest: loads the gdcut plugin (claim markers, evidence fixture, ledger)."""
pytest_plugins = ["gdcut.ledger.plugin"]
