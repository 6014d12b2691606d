-- Every event the platform delivered, once per event ID.
-- payload is the whole JSON as received (unknown fields kept); stored_at is ISO-8601 UTC
-- with milliseconds, so it sorts as text.
CREATE TABLE IF NOT EXISTS webhook_events (
    event_id    TEXT PRIMARY KEY NOT NULL,
    event_type  TEXT NOT NULL,
    stored_at   TEXT,
    payload     TEXT NOT NULL,
    received_at TEXT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX IF NOT EXISTS webhook_events_type_idx ON webhook_events (event_type);
CREATE INDEX IF NOT EXISTS webhook_events_stored_at_idx ON webhook_events (stored_at);

-- Events the store kept failing on, parked after --max-attempts and then acknowledged.
-- payload is TEXT so that whatever made the main table refuse an event cannot refuse it here.
CREATE TABLE IF NOT EXISTS webhook_dead_letters (
    event_id  TEXT PRIMARY KEY NOT NULL,
    payload   TEXT NOT NULL,
    reason    TEXT NOT NULL,
    failed_at TEXT NOT NULL
);
