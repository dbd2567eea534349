"""The write commands of `enphase` (storage, relay, contacts, generator, ACB) and their runner."""
