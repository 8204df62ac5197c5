"""Shared test set-up: validated rules are cached in the test run's own folder, never the user's."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(autouse=True, scope="session")
def _private_rules_cache(tmp_path_factory):
    """``load_rules`` keeps validated rules in ``$XDG_CACHE_HOME`` (budget/rulecache.py): a folder of
    this run here, for the tests and the command lines they start (they inherit the environment)."""
    saved = {name: os.environ.get(name) for name in ("XDG_CACHE_HOME", "GENDER_BUDGET_CACHE")}
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg-cache"))
    os.environ.pop("GENDER_BUDGET_CACHE", None)
    yield
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
