"""autodocket's database: task status now, the lab knowledge graph next (SQLAlchemy)."""
