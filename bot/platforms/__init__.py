"""Platform adapters: console here; Slack in its own package (slack/), Discord in its own module."""
