"""The command line: ``jiuzhu settle | explain | policy | demo``."""
