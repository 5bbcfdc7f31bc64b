"""Edges that read and write files: policy files, claim JSONL, settlement output."""
