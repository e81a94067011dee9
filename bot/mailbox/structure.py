"""What a mail looks like before it is downloaded: size, arrival time and the list of its body parts,
read from an IMAP ``BODYSTRUCTURE`` (RFC 3501 section 7.4.2).

Pure functions over the values imapclient parses; no I/O. Part numbers follow the FETCH ``BODY[section]``
rules of RFC 3501 section 6.4.5, so ``BodyPart.part`` can be handed straight to
``MailboxClient.stream_part_to``. Parameter values are kept as the server sent them: RFC 2047/2231
decoding of file names is ``bot.mime.charsets``'s job, which is why the undecoded bytes stay available.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True)
class BodyPart:
    """One non-multipart body part (message/rfc822 parts are listed too, followed by their own parts)."""

    part: str  # FETCH section number: "1", "2", "2.1" ...
    content_type: str  # lower case, "application/pdf"
    encoding: str  # Content-Transfer-Encoding, lower case: "base64", "quoted-printable", "7bit" ...
    size: int  # octets of the encoded body (RFC 3501 body-fld-octets), not of the decoded file
    params: Mapping[str, str] = field(default_factory=dict)  # Content-Type params, keys lower case
    disposition: str | None = None  # "attachment" | "inline" | None
    disposition_params: Mapping[str, str] = field(default_factory=dict)
    content_id: str | None = None
    raw_values: Mapping[str, bytes] = field(default_factory=dict)  # non-UTF-8 param values, undecoded

    @property
    def filename(self) -> str | None:
        """The file name as sent (Content-Disposition filename, else Content-Type name), undecoded:
        it may still be an RFC 2047 word or an RFC 2231 ``filename*`` value."""
        for params in (self.disposition_params, self.params):
            for key in ("filename", "filename*", "filename*0", "filename*0*", "name", "name*", "name*0*"):
                if key in params:
                    return params[key]
        return None

    @property
    def is_attachment(self) -> bool:
        return self.disposition == "attachment" or (
            self.filename is not None and not self.content_type.startswith("multipart/")
        )


@dataclass(frozen=True)
class MailInfo:
    """Size-aware view of one mail: decide whole-fetch versus part-by-part streaming from this."""

    uid: int
    size: int  # RFC822.SIZE
    internaldate: datetime | None  # timezone-aware UTC
    parts: tuple[BodyPart, ...]

    def largest_part(self) -> BodyPart | None:
        return max(self.parts, key=lambda p: p.size, default=None)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def _params(value: Any, raw_sink: dict[str, bytes], prefix: str) -> dict[str, str]:
    """A body-fld-param list ``(key value key value ...)`` or NIL, as a dict with lower-case keys."""
    result: dict[str, str] = {}
    if not isinstance(value, tuple | list):
        return result
    items = list(value)
    for key, val in zip(items[0::2], items[1::2], strict=False):
        name = (_text(key) or "").lower()
        if isinstance(val, bytes):
            try:
                result[name] = val.decode("utf-8")
            except UnicodeDecodeError:
                # Raw 8-bit (often GBK) bytes in a header parameter: keep them for bot.mime.charsets.
                raw_sink[f"{prefix}{name}"] = val
                result[name] = val.decode("utf-8", errors="replace")
        elif val is not None:
            result[name] = str(val)
    return result


def _is_multipart(node: Sequence[Any]) -> bool:
    # imapclient nests the children of the top-level multipart in a list; nested bodies (inside
    # message/rfc822) stay raw, where the children are the leading tuples (RFC 3501 body-type-mpart).
    return len(node) > 0 and isinstance(node[0], list | tuple)


def _children(node: Sequence[Any]) -> tuple[list[Sequence[Any]], Sequence[Any]]:
    if isinstance(node[0], list):
        return list(node[0]), node[1:]
    kids: list[Sequence[Any]] = []
    for i, item in enumerate(node):
        if not isinstance(item, tuple | list):
            return kids, node[i:]
        kids.append(item)
    return kids, ()


def _leaf(node: Sequence[Any], number: str) -> BodyPart:
    # body-type-1part: type subtype params id description encoding size [type-specific] [extension]

    def get(i: int) -> Any:
        return node[i] if i < len(node) else None

    mtype = (_text(get(0)) or "application").lower()
    subtype = (_text(get(1)) or "octet-stream").lower()
    raw: dict[str, bytes] = {}
    params = _params(get(2), raw, "")
    size = get(6)
    # Type-specific fields before the extension data: text/* has body-fld-lines (1 field);
    # message/rfc822 has envelope, body and lines (3 fields).
    if mtype == "text":
        ext = 8
    elif (mtype, subtype) in {("message", "rfc822"), ("message", "global")}:
        ext = 10
    else:
        ext = 7
    disposition_node = get(ext + 1)  # after body-fld-md5
    disposition: str | None = None
    disposition_params: dict[str, str] = {}
    if isinstance(disposition_node, tuple | list) and disposition_node:
        disposition = (_text(disposition_node[0]) or "").lower() or None
        if len(disposition_node) > 1:
            disposition_params = _params(disposition_node[1], raw, "disposition.")
    return BodyPart(
        part=number,
        content_type=f"{mtype}/{subtype}",
        encoding=(_text(get(5)) or "7bit").lower(),
        size=size if isinstance(size, int) else 0,
        params=params,
        disposition=disposition,
        disposition_params=disposition_params,
        content_id=_text(get(3)),
        raw_values=raw,
    )


def _walk_part(node: Sequence[Any], number: str, out: list[BodyPart]) -> None:
    if _is_multipart(node):
        kids, _ = _children(node)
        for i, kid in enumerate(kids, 1):
            _walk_part(kid, f"{number}.{i}", out)
        return
    leaf = _leaf(node, number)
    out.append(leaf)
    inner = node[8] if len(node) > 8 else None
    if leaf.content_type in {"message/rfc822", "message/global"} and isinstance(inner, tuple | list) and inner:
        _walk_body(inner, number, out)


def _walk_body(node: Sequence[Any], prefix: str, out: list[BodyPart]) -> None:
    """Number the parts of the body of the message at section ``prefix`` ("" for the top level).
    A non-multipart body is part 1 of its message (RFC 3501 section 6.4.5)."""

    def join(i: int) -> str:
        return f"{prefix}.{i}" if prefix else str(i)

    if _is_multipart(node):
        kids, _ = _children(node)
        for i, kid in enumerate(kids, 1):
            _walk_part(kid, join(i), out)
    else:
        _walk_part(node, join(1), out)


def parse_bodystructure(bodystructure: Sequence[Any]) -> tuple[BodyPart, ...]:
    """Flatten a BODYSTRUCTURE (as parsed by imapclient) into its leaf parts, in section order."""
    out: list[BodyPart] = []
    if bodystructure:
        _walk_body(bodystructure, "", out)
    return tuple(out)


def mail_info(uid: int, data: Mapping[bytes, Any], *, with_parts: bool = True) -> MailInfo | None:
    """Build a MailInfo from one FETCH answer; None when the answer lacks the fields (so the caller
    retries rather than trusting a partial answer, imapclient#334/#564). ``with_parts=False``: the
    answer was asked without BODYSTRUCTURE, and ``parts`` is empty."""
    size = data.get(b"RFC822.SIZE")
    structure = data.get(b"BODYSTRUCTURE")
    if not isinstance(size, int) or (with_parts and structure is None):
        return None
    when = data.get(b"INTERNALDATE")
    internaldate: datetime | None = None
    if isinstance(when, datetime):
        # A naive value (normalise_times left on) is local time; make it aware before converting.
        internaldate = when.astimezone(UTC)
    parts = parse_bodystructure(structure) if with_parts and structure is not None else ()
    return MailInfo(uid=uid, size=size, internaldate=internaldate, parts=parts)
