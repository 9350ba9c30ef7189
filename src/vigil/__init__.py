"""Vigil: an open platform for an alliance against counterfeiting and IP infringement."""

__version__ = "0.1.0"
