"""Alembic migrations for the Waypost database."""
