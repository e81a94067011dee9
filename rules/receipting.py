"""Whom intake answers with a receipt (回执), beyond loop protection (``rules.mailkind.may_auto_answer``).

The mailbox is public: every automatic answer to a forged address is backscatter, and every answer to
a phisher tells him the mailbox is read. So, first match wins:

1. the sender is not trusted (``rules.sender``) -> no receipt;
2. the address is not exactly one plain mailbox -> no receipt (a receipt goes to one address, never
   to a list smuggled into a header);
3. a stranger (an address in no section's ``senders``) is answered only when the mail is plausibly a
   submission: material attached (or a cloud link), an indicator named, not bulk-like (many
   recipients, not addressed to us), not phishing-like (a look-alike of a known domain, a Reply-To
   elsewhere); and only while today's receipts to strangers stay under their own daily cap;
4. the per-address daily cap (``[receipts] max_per_address_per_day``), counted for that one address.

Whatever is not answered is still recorded and shown to the coordinator.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from enum import StrEnum

from rapidfuzz.distance import DamerauLevenshtein

from rules.authresults import aligned, domain_of

MANY_RECIPIENTS = 10  # a mail to more addresses than this is a circular, not a submission

# Public mail providers: sharing one with a section says nothing, and they look alike (163/126).
PUBLIC_PROVIDERS = frozenset(
    {
        *("163.com", "126.com", "yeah.net", "188.com", "vip.163.com", "vip.126.com", "qq.com", "foxmail.com"),
        *("vip.qq.com", "sina.com", "sina.cn", "sohu.com", "139.com", "189.cn", "aliyun.com", "wo.cn"),
        *("outlook.com", "hotmail.com", "live.com", "gmail.com", "yahoo.com", "icloud.com", "tom.com"),
    }
)
# Characters a look-alike domain swaps in (digit for letter, letter pairs that read as one).
_CONFUSABLE = (("rn", "m"), ("vv", "w"), ("0", "o"), ("1", "l"), ("i", "l"), ("5", "s"), ("-", ""), ("_", ""))
_PLAIN_ADDRESS = re.compile(r"^[^\s@<>(),;:\"\[\]\\]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$")


class ReceiptVerdict(StrEnum):
    SEND = "send"
    UNTRUSTED = "untrusted"
    NOT_ONE_ADDRESS = "not_one_address"
    STRANGER_NOT_SUBMISSION = "stranger_not_submission"
    STRANGER_BULK = "stranger_bulk"
    STRANGER_PHISHING = "stranger_phishing"
    STRANGERS_CAPPED = "strangers_capped"
    ADDRESS_CAPPED = "address_capped"


@dataclass(frozen=True)
class Submission:
    """What the mail itself says about being a submission (gathered by ``bot.ingest.trust``)."""

    has_material: bool  # a file that counts as material, or a cloud link
    names_indicator: bool  # the subject, a file name or a declaration named an indicator
    bulk_like: bool
    phishing_like: bool


@dataclass(frozen=True)
class ReceiptFacts:
    """What the receipt rule needs to know about one recorded mail."""

    trusted: bool
    address: str
    known_section: bool  # the address is in a section's senders
    has_material: bool  # a file that counts as material, or a cloud link
    names_indicator: bool  # the subject, a file name or a declaration named an indicator
    bulk_like: bool
    phishing_like: bool
    sent_to_address_today: int
    per_address_cap: int
    stranger_receipts_today: int
    stranger_cap: int


def receipt_verdict(f: ReceiptFacts) -> ReceiptVerdict:
    """Whether to send the receipt (see the module docstring for the order)."""
    if not f.trusted:
        return ReceiptVerdict.UNTRUSTED
    if not is_one_address(f.address):
        return ReceiptVerdict.NOT_ONE_ADDRESS
    if not f.known_section:
        if not (f.has_material and f.names_indicator):
            return ReceiptVerdict.STRANGER_NOT_SUBMISSION
        if f.bulk_like:
            return ReceiptVerdict.STRANGER_BULK
        if f.phishing_like:
            return ReceiptVerdict.STRANGER_PHISHING
        if f.stranger_receipts_today >= f.stranger_cap:
            return ReceiptVerdict.STRANGERS_CAPPED
    if f.sent_to_address_today >= f.per_address_cap:
        return ReceiptVerdict.ADDRESS_CAPPED
    return ReceiptVerdict.SEND


def is_one_address(address: str) -> bool:
    """Exactly one plain ``local@domain``: no list, no display name, no quoting, no spaces.

    >>> is_one_address("a@x.example")
    True
    >>> is_one_address("a@x, b@y, c@z")
    False
    """
    return bool(_PLAIN_ADDRESS.fullmatch(address)) and "." in address.rpartition("@")[2]


def bulk_like(recipients: Collection[str], own_addresses: Collection[str]) -> bool:
    """A circular: many recipients, or not addressed to our mailbox at all (we were Bcc'd). The second
    test needs our own address to be an email address (it is on 163; a test server's login may not be)."""
    if len(recipients) > MANY_RECIPIENTS:
        return True
    ours = {a.lower() for a in own_addresses if "@" in a}
    return bool(ours) and not ({r.lower() for r in recipients} & ours)


def _skeleton(domain: str) -> str:
    for seen, meant in _CONFUSABLE:
        domain = domain.replace(seen, meant)
    return domain


def _registered_label(domain: str) -> str:
    """The label before the public suffix, roughly: ``mail.jzhbj.gov.cn`` -> ``jzhbj``."""
    labels = domain.split(".")
    suffix = 2 if len(labels) >= 3 and labels[-2] in ("gov", "com", "net", "org", "edu", "ac") else 1
    return labels[-suffix - 1] if len(labels) > suffix else labels[0]


def lookalike_domain(domain: str, known: Iterable[str]) -> bool:
    """Whether ``domain`` imitates one of the ``known`` domains without being it (or a subdomain of it).

    >>> lookalike_domain("examp1e.com", ["example.com"])
    True
    >>> lookalike_domain("mail.example.com", ["example.com"])
    False
    """
    domain = domain.lower().rstrip(".")
    if not domain or domain in PUBLIC_PROVIDERS:
        return False
    candidates = {k.lower().rstrip(".") for k in known} - PUBLIC_PROVIDERS - {""}
    if any(aligned(domain, k) for k in candidates):
        return False
    for k in candidates:
        label = _registered_label(k)
        if _skeleton(domain) == _skeleton(k) or DamerauLevenshtein.distance(domain, k) <= 2:
            return True
        if len(label) >= 5 and label in domain:  # example.com.cn, example-com.net, mail-example.org
            return True
    return False


def phishing_like(address: str, reply_to: str, known_domains: Iterable[str]) -> bool:
    """A look-alike of a known domain, or a ``Reply-To`` that sends the answer elsewhere."""
    domain = domain_of(address)
    if lookalike_domain(domain, known_domains):
        return True
    reply_domain = domain_of(reply_to) if "@" in reply_to else ""
    return bool(reply_domain) and not aligned(reply_domain, domain)
