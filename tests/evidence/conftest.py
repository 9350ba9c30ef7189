"""The web platform's fixtures, for the suite of the public transparency endpoints."""

from tests.web.conftest import cheap_password_hashing, seeded_database, web

__all__ = ["cheap_password_hashing", "seeded_database", "web"]
