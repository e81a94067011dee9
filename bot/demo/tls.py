"""A throwaway certificate authority for the demo servers (trustme, built on ``cryptography``).

The demo's config names the CA in ``ca_file``, exactly as a bureau with a private mail server would,
so the bot's ordinary verified-TLS code path runs: no verification is switched off anywhere.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

import trustme


@dataclass(frozen=True)
class DemoTls:
    ca_file: Path  # PEM of the CA the clients trust
    server_context: ssl.SSLContext  # certificate for 127.0.0.1 and localhost


def make_tls(folder: Path) -> DemoTls:
    folder.mkdir(parents=True, exist_ok=True)
    ca = trustme.CA(organization_name="intake demo")
    leaf = ca.issue_cert("127.0.0.1", "localhost")
    ca_file = folder / "demo-ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    leaf.configure_cert(context)
    return DemoTls(ca_file=ca_file, server_context=context)
