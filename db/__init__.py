"""Persistence: SQLAlchemy 2 models, query functions (session first), Alembic migrations."""
