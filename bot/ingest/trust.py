"""The trust facts of one parsed mail, gathered for the rules: who sent it (``rules.sender``), which of
its files are not material (``rules.material``), and what the receipt rule needs to know.

The decisions are the rules'; this module only reads what they need from the configuration, the
headers and the spooled files, so that ``bot.ingest.poll`` makes each decision with one call.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.app import Deps
from bot.mime.mail import IncomingMail, Material, Skipped
from bot.mime.sender import parse_recipients
from rules.authresults import authenticate, domain_of
from rules.decision import Decision
from rules.material import HEAD_BYTES, NotMaterial, not_material
from rules.receipting import Submission, bulk_like, phishing_like
from rules.sender import SenderVerdict, verdict


def sender_of(deps: Deps, mail: IncomingMail) -> SenderVerdict:
    """The sender verdict: the parser's doubts and the topmost ``Authentication-Results`` (the parser
    keeps the first occurrence of each header, which is the topmost)."""
    coordinator = deps.config.coordinator
    auth = authenticate(mail.headers.get("authentication-results"), mail.from_addr, coordinator.authserv_ids)
    return verdict(mail.from_addr, mail.sender_doubt, auth)


def not_material_files(mail: IncomingMail) -> dict[int, NotMaterial]:
    """Index of each file that is not material, and why: executables by content and real extension,
    damaged transfer encodings, and containers intake kept unopened (their ``Skipped`` entry carries
    the container's own name)."""
    return not_material_of(mail.materials, mail.skipped)


def not_material_of(materials: Sequence[Material], skipped: Sequence[Skipped]) -> dict[int, NotMaterial]:
    """``not_material_files`` for any list of materials (a cloud file fetched by hand, too)."""
    unopened = {s.name: s.reason for s in skipped}
    found: dict[int, NotMaterial] = {}
    for index, material in enumerate(materials):
        with material.path.open("rb") as f:
            head = f.read(HEAD_BYTES)
        why = not_material(
            material.filename.text, head, damage=material.damage, unopened=unopened.get(material.filename.text)
        )
        if why is not None:
            found[index] = why
    return found


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
