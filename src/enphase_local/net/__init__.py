"""Talking to one gateway: transport, bounded reads, authentication, tokens, certificates.

Knows no endpoint by name: it reads any `sources.registry.Source` it is handed and
classifies the answer; which sources to read, and when, is the engine's business.
"""
