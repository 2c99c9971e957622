"""Web Push: VAPID keys, payload encryption, the sender and the durable outbox worker."""
