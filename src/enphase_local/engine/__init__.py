"""Pure decisions over a `SourceCache`: what to probe, what is due, which source serves
production, how counters are guarded and how a snapshot is assembled. No I/O.

The engine never imports `client` or `net` (tests/test_layout.py checks it), so every
decision here is tested with plain data and an injected clock, without sockets.
"""
