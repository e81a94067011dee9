"""``intake demo``: the whole bot against mail servers embedded in the process, with no account.

- ``tls``: a throwaway CA and server certificate, so the demo uses verified TLS as with 163;
- ``servers``: an IMAP server (pymap, in-memory) and an SMTP server (aiosmtpd) on 127.0.0.1;
- ``samples``: realistic mails from several sections (messy subjects, GBK zips, forwards ...);
- ``runner``: writes a real config, fills the mailbox, and runs the production jobs in order.
"""
