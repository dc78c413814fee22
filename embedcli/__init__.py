"""embedcli: word and document embeddings from raw text, on the command line and in Python.

The library is usable without the CLI::

    from embedcli import tokenize, vocab, cooccur, weighting, svd, vectors
"""

__version__ = "0.1.0"
