"""Sentinels shared by the library and the CLI (a module without imports, so the CLI can use them
without importing numpy)."""

#: Put in a batch of queries (``Vectors.most_similar_batch``) to have everything before it
#: answered at once: the CLI sends it when no more stdin is waiting (an interactive user).
FLUSH = object()
