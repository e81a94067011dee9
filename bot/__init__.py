"""The running application: adapters (IMAP, SMTP, storage) and orchestration (poll, outbox, CLI)."""
