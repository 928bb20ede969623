"""The operator's view of `paperwire run`: health, metrics and the status page."""
