"""The TinyDB store: the file (store), the in-memory snapshot, operators on its columns, stories, the documents as JSON bytes decoded on demand (document_bytes)."""
