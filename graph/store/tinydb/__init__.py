"""The TinyDB store: the file (store), the in-memory Snapshot of a version (snapshot) and its
Reader (reader), operators on its columns (operators), facet tables, orderings and page windows
(ordering), stories, and the documents kept as JSON bytes decoded on demand (document_bytes)."""
