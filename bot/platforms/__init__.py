"""Platform adapters: console here; Slack and Discord each in their own module."""
