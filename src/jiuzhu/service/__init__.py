"""The one-stop settlement service: HTTP (FastAPI) over the registry, the reference
engine and the yearly accumulators (docs/service.md, ADR 9)."""
