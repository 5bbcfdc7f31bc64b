"""The query string of a GET route held to its spec: a parameter the route does not know,
or one of its parameters given twice (``?person=a&person=b``, which the framework would
silently read as the last), is an error naming the parameter, not ignored."""

from __future__ import annotations

from starlette.requests import Request

from jiuzhu.usecases.errors import Kind, Refused

MAX_LISTED = 20


def only(request: Request, *allowed: str) -> None:
    """Refuse (422) unknown and repeated query parameters, each named."""
    query = request.query_params
    problems = [(k, "未知的查询参数") for k in sorted(set(query) - set(allowed))]
    problems += [(k, "查询参数只能给出一次") for k in allowed if len(query.getlist(k)) > 1]
    if problems:
        raise Refused.many(Kind.invalid, problems[:MAX_LISTED])
