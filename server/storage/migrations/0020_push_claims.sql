-- Each claim of the push outbox has an owner and a lease, so that several servers (or worker processes) share one
-- outbox: a message in 'sending' belongs to the worker named in `claimed_by` until `lease_until`, which the worker
-- renews while it holds the message; once the lease has run out (the worker died) another worker takes it.
ALTER TABLE push_outbox ADD COLUMN claimed_by TEXT;
ALTER TABLE push_outbox ADD COLUMN lease_until TEXT;
-- What was left 'sending' before claims had leases was left by a stopped server: its lease has run out.
UPDATE push_outbox SET lease_until = kumpul_now() WHERE state = 'sending';
-- Claims whose lease ran out are looked for at every claim: only the few messages in flight are in this index (its
-- first column the state, so that SQLite's planner prefers it to push_outbox_due for them).
CREATE INDEX push_outbox_leases ON push_outbox (state, lease_until) WHERE state = 'sending';
