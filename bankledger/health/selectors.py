"""Reads that belong to no app."""

from django.db import DatabaseError, connection


def database_is_reachable() -> bool:
    """True when the database answers a trivial query."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return False
    return True
