"""Scheduling: the APScheduler wrapper and its jobs (ingest, channel digests, alerts)."""
