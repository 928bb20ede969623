"""Platform-neutral command handlers: each takes a `Context` and returns a `Reply`."""
