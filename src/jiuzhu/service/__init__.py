"""The one-stop settlement service's HTTP edge (FastAPI): routes over the use cases of
``jiuzhu.usecases`` (docs/service.md, ADR 9, ADR 14)."""
