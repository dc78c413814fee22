"""embedcli: word and document embeddings from raw text, on the command line and in Python.

The library is usable without the CLI::

    from embedcli.specs import SVDSpec
    from embedcli.pipeline import run_pipeline
    from embedcli.vectors import Vectors

See ARCHITECTURE.md for the modules and how a stage is added.
"""

__version__ = "0.3.0.dev0"  # the Unreleased section of CHANGELOG.md
