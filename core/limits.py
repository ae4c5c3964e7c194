"""Numbers shared by the repository, the services and the API."""

# One job never carries more photos than this; larger lists are chunked (SPEC §3, §5).
MAX_ITEMS_PER_JOB = 2000

# The largest id a client may send: a 64-bit signed primary key (SQLite and PostgreSQL).
MAX_DB_ID = 2**63 - 1


def id_parse(value: object) -> int | None:
    """An id as sent (int or digit string) as an int, or ``None`` when it cannot be a row id.

    Values past 64 bits are ``None`` too: SQLite cannot even bind them.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, int) and 0 < value <= MAX_DB_ID:
        return value
    return None
