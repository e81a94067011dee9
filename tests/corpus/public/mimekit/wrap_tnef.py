"""Wrap MimeKit's TNEF test files (UnitTests/TestData/tnef/*.tnef) in a minimal Outlook-like mail.

MimeKit ships these winmail.dat bodies without a mail around them; this writes NAME.eml beside this
script for each one listed, so both parsers meet them as Outlook sends them. Run once, by hand:
    python wrap_tnef.py /path/to/MimeKit/UnitTests/TestData/tnef
"""

from __future__ import annotations

import base64
import sys
from pathlib import Path

NAMES = (
    "two-files",
    "long-filename",
    "data-before-name",
    "unicode-mapi-attr",
    "unicode-mapi-attr-name",
    "garbage-at-end",
)

TEMPLATE = """\
From: "Outlook Sender" <sender@example.com>
To: <recipient@example.net>
Subject: TNEF sample {name}
Date: Mon, 01 Jan 2024 09:00:00 +0800
Message-ID: <tnef-{name}@example.com>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="----=_NextPart_000_0000_01DA0000.00000000"
X-Mailer: Microsoft Outlook 16.0

This is a multipart message in MIME format.

------=_NextPart_000_0000_01DA0000.00000000
Content-Type: text/plain; charset="us-ascii"
Content-Transfer-Encoding: 7bit

MimeKit TNEF test file {name}.tnef, sent as Outlook sends rich text.

------=_NextPart_000_0000_01DA0000.00000000
Content-Type: application/ms-tnef; name="winmail.dat"
Content-Transfer-Encoding: base64
Content-Disposition: attachment; filename="winmail.dat"

{body}
------=_NextPart_000_0000_01DA0000.00000000--
"""


def main(source: Path) -> None:
    here = Path(__file__).resolve().parent
    for name in NAMES:
        data = (source / f"{name}.tnef").read_bytes()
        encoded = base64.encodebytes(data).decode("ascii").rstrip("\n")
        mail = TEMPLATE.format(name=name, body=encoded).replace("\n", "\r\n")
        (here / f"tnef-{name}.eml").write_bytes(mail.encode("ascii"))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
