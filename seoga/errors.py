"""Errors a user can act on: the CLI prints their message, never a traceback."""


class SeogaError(Exception):
    """Base class: the message says what went wrong and what to do."""


class InputError(SeogaError):
    """A file, line, query or argument the user gave cannot be used."""


class ModelUnavailableError(SeogaError):
    """A model cannot be found locally, on the hub, or in an installed offline pack."""


class CollectionError(SeogaError):
    """A collection folder is missing, damaged, or made by an incompatible seoga version."""
