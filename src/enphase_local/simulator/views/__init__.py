"""Endpoint bodies rendered from one instant of a site (`state.SiteState`)."""
