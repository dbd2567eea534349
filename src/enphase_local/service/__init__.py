"""The long-running service (`enphase collect`): read gateways, keep and show what they say.

Sits above the client: it imports `enphase_local` (the library) and never the
other way round. Sinks (`sinks.Sink`) receive what the collector reads.
"""
