"""Rendering: neutral replies turned into terminal text, Slack Block Kit or Discord embeds."""
