"""Policies as data: the validated model of a policy file and its checks."""

from jiuzhu.domain.policy.model import Policy

__all__ = ["Policy"]
