"""The reading commands of `enphase`, one module per command family (see `cli.app`)."""
