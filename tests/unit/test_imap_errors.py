"""ImapError and its subclasses (bot.mailbox.errors)."""

from __future__ import annotations

import pytest

from bot.mailbox.errors import ImapAuthError, ImapConnectionError, ImapError, ImapMessageGoneError


@pytest.mark.parametrize(
    "exc",
    [
        ImapError("fetch failed: NO", "NO [SERVERBUG] x"),
        ImapConnectionError("fetch: connection to h lost: reset", "reset"),
        ImapAuthError("login refused for a@163.com", "535 Error: authentication failed"),
        ImapMessageGoneError(42),
    ],
)
def test_imap_errors_survive_pickling_whole(exc: ImapError) -> None:
    """The download process hands its errors to the poll through a pipe: class, message and fields
    must arrive as they left (ImapMessageGoneError's __init__ takes a uid, not a message)."""
    import pickle

    back = pickle.loads(pickle.dumps(exc))
    assert type(back) is type(exc)
    assert str(back) == str(exc) and back.server_text == exc.server_text
    assert back.__dict__ == exc.__dict__
