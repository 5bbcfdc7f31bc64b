"""jiuzhu (救助): medical assistance settlement as the policy documents describe it."""

__version__ = "0.1.0"
