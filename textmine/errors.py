"""Exceptions raised by textmine; the CLI turns them into one-line errors."""


class TextmineError(Exception):
    """Base class for every error a user can cause and fix."""


class InputError(TextmineError):
    """An input file cannot be read or lacks what the command needs."""


class ColumnError(InputError):
    """A requested column does not exist, or none could be detected."""


class DataFileError(TextmineError):
    """A data file (taxonomy, lexicon, alias table, config) is invalid; names file:line."""
