"""The TinyDB store: the file (store), the in-memory snapshot, operators on its columns, stories, lazily decoded documents."""
