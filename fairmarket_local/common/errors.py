"""User-facing errors: one line, no traceback, non-zero exit at the CLI boundary."""

from __future__ import annotations


class FairmarketError(Exception):
    """An error caused by the user's input (config, data file, argument, model file, cache).

    The CLI prints ``error: <message>`` on one line and exits with status 2. Messages name the
    offending file / row / column / key so the user can fix the input without reading code.
    """


class DataError(FairmarketError):
    """A data file is malformed (names file, row and column)."""


class ConfigError(FairmarketError):
    """A config value is invalid (names the key)."""
