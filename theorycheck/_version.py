"""The one place theorycheck's version is written.

``pyproject.toml`` reads it (``[tool.setuptools.dynamic]``), ``theorycheck.__version__``
re-exports it, and a test holds ``CITATION.cff`` and ``CHANGELOG.md`` to it.
"""

__version__ = "0.1.0"
