"""The use cases: what the HTTP API, the CLI and (later) the staff pages all call.

Each module holds one family of use cases. A use case takes plain inputs (a ``Caller``,
dicts, ids) and the ``Store`` (the unit of work: the database, the prebuilt statements,
the policy, the clock), checks the caller's role and jurisdiction, calls the domain
(the reference engine, the registry's rules), writes through storage, audits, and
returns plain results. It knows nothing of HTTP: a refusal is a ``Refused`` whose kind
the edge turns into a status code (ADR 14).
"""
