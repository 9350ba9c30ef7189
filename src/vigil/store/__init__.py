"""The relational store: SQLAlchemy tables, repositories and Alembic migrations."""
