"""Numbers shared by the repository, the services and the API."""

# One job never carries more photos than this; larger lists are chunked (SPEC §3, §5).
MAX_ITEMS_PER_JOB = 2000

# The largest id a client may send: a 64-bit signed primary key (SQLite and PostgreSQL).
MAX_DB_ID = 2**63 - 1
