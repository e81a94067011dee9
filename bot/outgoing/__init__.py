"""Everything intake sends: message building, rendering, receipts, reminders, digest, outbox, SMTP."""
