"""What the rules find in one mail without the database, computed where the mail is read.

The sender's verdict (``rules.sender``), which files are not material (``rules.material``), the
matcher's decision (``rules.match``) and the commands the mail's text carries (``rules.commands``)
depend only on the mail, the catalogue and the configuration. The worker that parses a mail
(``bot.ingest.prepare``) computes them beside the parse, so that the recording thread, the one
serial step of a backlog, only checks and writes (they were a fifth of its time).

**Why the recorder may take them.** They are computed by intake's own code, in intake's own worker
processes, from the same inputs as the recorder would use (``RuleInputs``, built from the poll's
configuration and catalogue) and the same parsed mail; nothing in them comes from the mail except
through those functions. Every decision that gives a mail power stays the recorder's: it derives
the sender's verdict and section itself, decides the authority of commands (``route``), and uses the
worker's matcher decision only when it was computed for that same section (``for_section``);
otherwise it computes the decision again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

from bot.config.model import Config, SectionConfig, section_of
from bot.mime.mail import IncomingMail, Material, Skipped
from rules.authresults import authenticate
from rules.catalogue import Catalogue
from rules.commands import Commands, parse_commands
from rules.decision import Decision
from rules.mailkind import MailKind
from rules.match import evaluate
from rules.material import HEAD_BYTES, NotMaterial, not_material
from rules.sender import SenderVerdict, verdict


@dataclass(frozen=True)
class RuleInputs:
    """What the rules read besides the mail: the catalogue and the configuration's sections and
    authentication servers (no addresses of ours, no secrets). Picklable: a worker gets it once."""

    catalogue: Catalogue
    sections: tuple[SectionConfig, ...]
    authserv_ids: tuple[str, ...] = ()

    @classmethod
    def of(cls, config: Config, catalogue: Catalogue) -> RuleInputs:
        return cls(catalogue, config.sections, config.coordinator.authserv_ids)

    @cached_property
    def known_sections(self) -> tuple[str, ...]:
        return known_sections(self.catalogue, self.sections)


@dataclass(frozen=True)
class Findings:
    """The rules' findings for one submission (see the module docstring)."""

    section: str | None  # the sender's section the decision was made for
    decision: Decision
    commands: Commands
    refused: dict[int, NotMaterial] = field(default_factory=dict)  # material index -> why it is not material

    def for_section(self, section: str | None) -> Decision | None:
        """The matcher's decision if it was made for ``section``, else None (decide again)."""
        return self.decision if section == self.section else None


def find(mail: IncomingMail, kind: MailKind, inputs: RuleInputs) -> Findings | None:
    """The findings of a submission; None for any other kind of mail (nothing is matched)."""
    if kind is not MailKind.SUBMISSION:
        return None
    sender = sender_verdict(mail, inputs.authserv_ids)
    section = section_of(inputs.sections, sender.address) if sender.trusted else None
    decision = evaluate(
        mail.subject.text, [m.filename.text for m in mail.materials], inputs.catalogue, mail.body_text, section=section
    )
    commands = parse_commands(mail.subject.text, mail.body_text, inputs.known_sections)
    return Findings(section, decision, commands, not_material_files(mail))


def sender_verdict(mail: IncomingMail, authserv_ids: Sequence[str]) -> SenderVerdict:
    """The sender verdict: the parser's doubts and the topmost ``Authentication-Results`` (the parser
    keeps the first occurrence of each header, which is the topmost)."""
    auth = authenticate(mail.headers.get("authentication-results"), mail.from_addr, tuple(authserv_ids))
    return verdict(mail.from_addr, mail.sender_doubt, auth)


def known_sections(catalogue: Catalogue, sections: Sequence[SectionConfig]) -> tuple[str, ...]:
    """Every section a command may name: the catalogue's, then the configuration's."""
    return tuple(dict.fromkeys((*catalogue.sections, *(s.name for s in sections))))


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
