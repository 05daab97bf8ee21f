"""Tests of gdcut itself; pytester builds throw-away projects for the ledger plugin."""
pytest_plugins = ["pytester"]
