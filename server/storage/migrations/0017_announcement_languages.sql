-- Announcements in each attendee's language: a push subscription says which language its attendee reads,
-- and each queued message notes that language, so the delivery report can break down by language.
ALTER TABLE push_subscriptions ADD COLUMN lang TEXT CHECK (lang IS NULL OR length(lang) BETWEEN 2 AND 35);
-- The language of the subscription when the message was queued, then when it was sent.
ALTER TABLE push_outbox ADD COLUMN lang TEXT;
