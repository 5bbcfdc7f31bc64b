"""Shared fixtures: the contract tests run once per engine."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(params=["reference", "batch"])
def engine(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Both engines must give the same output for any input (``--engine``/JIUZHU_ENGINE)."""
    monkeypatch.setenv("JIUZHU_ENGINE", request.param)
    yield request.param


@pytest.fixture(autouse=True, scope="session")
def _policy_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Compiled policies are kept in a directory of the test run's own, never the home's;
    the commands under test use it as a user's do (``io/policy_cache``)."""
    import os

    before = os.environ.get("JIUZHU_CACHE_DIR")
    os.environ["JIUZHU_CACHE_DIR"] = str(tmp_path_factory.mktemp("policy-cache"))
    yield
    if before is None:
        del os.environ["JIUZHU_CACHE_DIR"]
    else:
        os.environ["JIUZHU_CACHE_DIR"] = before
