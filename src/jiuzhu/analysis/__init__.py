"""Analyses over settled years of claims: policy simulation and its reports."""
