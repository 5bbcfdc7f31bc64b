"""A synthetic population and a year of claims, seeded and calibrated (docs/synthetic-data.md)."""
