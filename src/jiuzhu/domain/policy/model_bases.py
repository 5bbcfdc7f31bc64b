"""Bases of the province frameworks' and the application procedure's tables.

Those tables are read only by the commands that check a policy against its province or
run applications, so they stay pydantic models; the policy itself is plain dataclasses
(``params.Strict``, ADR 21) that the engine uses without pydantic. The same two rules
of a policy file hold here: an unknown key is an error, and a value marked assumed says
where the real one comes from.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from jiuzhu.domain.policy.params import assumed_needs_note, clause_shape


class StrictModel(BaseModel):
    """An unknown or misplaced key is an error; validators built when first used."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class SourcedModel(StrictModel):
    """Something that can cite a clause and be marked as assumed (as ``params.Sourced``)."""

    clause: str | None = None
    assumed: bool = False
    note: str | None = None

    @field_validator("clause")
    @classmethod
    def _clause_shape(cls, v: str | None) -> str | None:
        return clause_shape(v)

    @model_validator(mode="after")
    def _assumed_needs_note(self) -> SourcedModel:
        assumed_needs_note(self.assumed, self.note)
        return self
