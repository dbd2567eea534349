"""The physical site: its description, presets, physics and the writes it accepts."""
