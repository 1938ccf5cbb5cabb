"""The store: the DuckDB file, its connections and locks, migrations, the tables and their summaries."""
