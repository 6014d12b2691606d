-- Every event the platform delivered, once per event ID.
-- payload is the whole JSON as received (unknown fields kept).
CREATE TABLE IF NOT EXISTS webhook_events (
    event_id    TEXT PRIMARY KEY,
    event_type  TEXT NOT NULL,
    stored_at   TIMESTAMPTZ,
    payload     JSONB NOT NULL,
    received_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    attempts    INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX IF NOT EXISTS webhook_events_type_idx ON webhook_events (event_type);
CREATE INDEX IF NOT EXISTS webhook_events_stored_at_idx ON webhook_events (stored_at);

-- Events the store kept failing on, parked after --max-attempts and then acknowledged.
-- payload is TEXT, not JSONB: JSONB refuses some valid JSON (a \u0000 in a string), and
-- that may be exactly why the event landed here.
CREATE TABLE IF NOT EXISTS webhook_dead_letters (
    event_id  TEXT PRIMARY KEY,
    payload   TEXT NOT NULL,
    reason    TEXT NOT NULL,
    failed_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
