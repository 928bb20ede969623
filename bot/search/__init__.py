"""Full-text search: the query language, the tantivy index and the in-memory matcher."""
