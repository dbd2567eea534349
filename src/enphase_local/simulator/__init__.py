"""A gateway simulator: a real HTTP(S) server that behaves like Enphase gateways."""
