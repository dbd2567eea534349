"""Serving HTTP(S) as a gateway does: host, auth personalities, faults, control routes."""
