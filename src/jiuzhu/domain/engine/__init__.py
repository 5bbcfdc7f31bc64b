"""Settlement engines: the explainable reference engine (one claim at a time)."""

from jiuzhu.domain.engine.reference import settle_claims
from jiuzhu.domain.engine.settlement import Line, Settlement

__all__ = ["Line", "Settlement", "settle_claims"]
