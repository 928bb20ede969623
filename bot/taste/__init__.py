"""A channel's taste: its votes (and its topic) as a profile that re-ranks its digest.

`vectors` and `profile` and `rerank` are pure functions of the votes, the corpus's document
frequencies and the day; `loading` reads what they need from the store and the index."""
