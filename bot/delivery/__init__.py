"""Delivery: the outbox every message leaves through, pacing to the platforms' limits,
and the codec that keeps replies in the outbox."""
