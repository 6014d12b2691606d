-- PostgreSQL text cannot hold U+0000, which a JSON event ID can (`\u0000`), and such an ID
-- may be exactly why the event is parked. It is kept escaped (a backslash doubled, U+0000
-- as \u0000) with event_id_escaped set: the key then differs from every ID kept as sent,
-- such as one that literally reads `\u0000`, so no dead letter overwrites another's.
ALTER TABLE webhook_dead_letters ADD COLUMN IF NOT EXISTS event_id_escaped BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE webhook_dead_letters DROP CONSTRAINT IF EXISTS webhook_dead_letters_pkey;
ALTER TABLE webhook_dead_letters ADD PRIMARY KEY (event_id, event_id_escaped);
