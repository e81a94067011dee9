"""Bytes -> ``IncomingMail``: charsets, transfer decoding, archives, cloud links, document text."""
