"""The PostgreSQL store: connection and reader (store), migrations, the SQL compiler, rows, writes, rollups, stories."""
