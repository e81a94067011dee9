"""The trust facts of one parsed mail, gathered for the rules in the recording process: who sent it
(``rules.sender``, under the configured authentication servers) and what the receipt rule needs to
know. Which files are not material is found where the mail is read (``bot.ingest.findings``).

The decisions are the rules'; this module only reads what they need from the configuration and the
headers, so that ``bot.ingest.poll`` makes each decision with one call.
"""

from __future__ import annotations

from bot.app import Deps
from bot.ingest.findings import sender_verdict
from bot.mime.mail import IncomingMail
from bot.mime.sender import parse_recipients
from rules.authresults import domain_of
from rules.decision import Decision
from rules.material import NotMaterial
from rules.receipting import Submission, bulk_like, phishing_like
from rules.sender import SenderVerdict


def sender_of(deps: Deps, mail: IncomingMail) -> SenderVerdict:
    """The sender verdict under the configured ``[coordinator] authserv_ids`` (``findings.sender_verdict``)."""
    return sender_verdict(mail, deps.config.coordinator.authserv_ids)


def names_indicator(decision: Decision, refused: dict[int, NotMaterial]) -> bool:
    """Whether the mail named an indicator: in the subject, a file that counts, or a declaration."""
    files = any(a.indicators for i, a in enumerate(decision.attachments) if i not in refused)
    return files or bool(decision.subject_indicators) or bool(decision.declarations)


def submission_facts(deps: Deps, mail: IncomingMail, decision: Decision, refused: dict[int, NotMaterial]) -> Submission:
    known = {domain_of(a) for s in deps.config.sections for a in s.senders}
    known |= {domain_of(a) for a in (*deps.config.coordinator.emails, *deps.own_addresses) if "@" in a}
    reply_to = parse_recipients([mail.headers.get("reply-to", "")])
    return Submission(
        has_material=len(refused) < len(mail.materials) or bool(mail.cloud_links),
        names_indicator=names_indicator(decision, refused),
        bulk_like=bulk_like(mail.to_addrs, deps.own_addresses),
        phishing_like=phishing_like(mail.from_addr, reply_to[0] if len(reply_to) == 1 else "", known),
    )
