"""The base of every error Vigil reports to a person (the CLI prints these without a trace)."""


class VigilError(Exception):
    """Something the user can fix: the message says what went wrong and what to do."""
