"""The IMAP adapter: bytes and structure out of the mailbox, nothing parsed (imapclient's habit)."""
