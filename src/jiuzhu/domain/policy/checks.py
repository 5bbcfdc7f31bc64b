"""The checks a policy file's reader applies, declared beside the fields they check.

The policy's classes are plain frozen dataclasses, so the engine, and a one-claim
``settle`` that finds the policy already compiled, use them without loading pydantic
(ADR 21, docs/performance.md "Start-up"). When a file is read, pydantic builds its
validator from the dataclasses' type hints; the markers here, written in
``Annotated[...]``, tell it the checks through pydantic's own protocol
(``__get_pydantic_core_schema__``), so pydantic-core is imported only then and the
messages are pydantic's (put in Chinese by ``jiuzhu.io.errors``) as before.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

READ_STRICTLY: dict[str, Any] = {"extra": "forbid"}
"""pydantic's configuration for every class of a policy file: an unknown or misplaced
key is an error."""


class Limits:
    """Bounds of a field, as pydantic-core's schema keywords: ``min_length`` (a list, a
    mapping or a text), ``pattern`` (a text), ``ge`` and ``le`` (a number)."""

    def __init__(self, **bounds: object) -> None:
        self.bounds = bounds

    def __get_pydantic_core_schema__(self, source: Any, handler: Callable[[Any], Any]) -> Any:
        return {**handler(source), **self.bounds}


class Check:
    """A function the field's value goes through: after it is read (it returns the value
    or raises ``ValueError`` with the message a person reads), or, with ``before=True``,
    on the value as the file wrote it (returning what is then read)."""

    def __init__(self, function: Callable[[Any], Any], *, before: bool = False) -> None:
        self.function = function
        self.before = before

    def __get_pydantic_core_schema__(self, source: Any, handler: Callable[[Any], Any]) -> Any:
        from pydantic_core import core_schema

        wrap = (
            core_schema.no_info_before_validator_function
            if self.before
            else core_schema.no_info_after_validator_function
        )
        return wrap(self.function, handler(source))


class ReadsWhole:
    """Mixin of a class whose whole mapping goes through ``read_whole`` before its fields
    are read (a bare scalar standing for ``{value: …}``; a document's citation put
    before each clause)."""

    @staticmethod
    def read_whole(data: Any) -> Any:
        """The mapping the fields are read from (subclasses say how)."""
        return data

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Callable[[Any], Any]) -> Any:
        from pydantic_core import core_schema

        # The class's own schema is a definition pydantic reuses for every other field of
        # this class; the reference moves to the wrapper so that every field reads whole.
        inner = dict(handler(source))
        ref = inner.pop("ref", None)
        return core_schema.no_info_before_validator_function(cls.read_whole, inner, ref=ref)
