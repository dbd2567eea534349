"""Endpoint families: one module each, with pure ``bytes -> model`` parsers.

`registry.SOURCES` (assembled in `sources/table.py`) lists every endpoint.
"""
