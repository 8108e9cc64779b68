"""The identity index's Alembic environment and revisions, shipped inside the package."""
