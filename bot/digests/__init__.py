"""A channel's daily digest: its settings, the selection of papers, building it, and
the run that posts it once a day."""
