"""Database plumbing shared by every domain package: the declarative base, engines, sessions and migrations."""
