"""Paper sources: each turns what a source publishes into `Observation`s."""
