"""The `enphase` command."""
