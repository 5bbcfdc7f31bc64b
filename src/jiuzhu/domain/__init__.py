"""The pure domain: money, vocabulary, policies and the settlement engine.

Nothing in this package reads files, talks HTTP or SQL, or keeps global state;
the edges (``jiuzhu.cli``, ``jiuzhu.io``, ``jiuzhu.policies``) call into it.
"""
