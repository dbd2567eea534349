"""Typed, frozen, slotted models of everything a gateway reports.

Units are in the field names (`watts`, `wh_today`, `soc_percent`,
`temperature_c`, `volts`, `amps`, `hz`); timestamps are epoch seconds.
"""
