"""jiuzhu (救助): medical assistance settlement as the seed policies describe it."""

__version__ = "0.1.0"
