"""Shared fixtures: the contract tests run once per engine."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(params=["reference", "batch"])
def engine(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Both engines must give the same output for any input (``--engine``/JIUZHU_ENGINE)."""
    monkeypatch.setenv("JIUZHU_ENGINE", request.param)
    yield request.param
