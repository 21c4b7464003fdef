"""One module per alembic revision; alembic loads them by path."""
