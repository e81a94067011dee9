"""Check the files of one submission: 情况说明 length and classification marks in the text.

Two steps, so that no document is parsed while the database is locked:

1. ``bot.ingest.documents.extract_texts`` (before the mail's transaction, in the poll's worker
   processes): the text of every file that may be read, each in a capped child process
   (``bot.mime.textextract``), keyed by content hash;
2. ``validate_mail`` (inside the transaction that records the mail, after ``record_submission``):
   writes what the texts show as ``problem`` rows (shown in the receipt and the digest) and, where
   the coordinator must decide, review items:

- ``over_word_limit``: a file taken for an indicator's 情况说明 (``rules.wordcount.statement_limit``)
  has more 字 than the indicator's ``word_limit`` (500; 1000 for item 52), counted as WPS/Word do;
- ``word_count_unknown``: such a file whose text cannot be read (.doc/.wps, scanned PDF, damaged):
  said plainly rather than guessed;
- ``possibly_classified``: 涉密/秘密/机密/绝密 in the document's first lines (its title and marking).
  Marks in the subject or a file name were already flagged by the rules. Either way the file is kept
  out of the export and the coordinator gets a review item reminding of rule 4;
- ``over_limit``: a file bigger, deeper or slower to read than ``ExtractLimits`` allow (a zip bomb
  dressed as a .docx, a PDF that keeps the reader busy for minutes). The file is recorded as sent,
  its text is not counted, and the coordinator gets a review item to look at it by hand.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.ingest.documents import extract_texts
from bot.ingest.record import Recorded
from bot.ingest.storage import Storage
from bot.mime.textextract import Extracted
from db.models import Assignment, Attachment, Mail, Problem, ReviewItem
from rules import codes
from rules.catalogue import Catalogue
from rules.match_refs import classification_marks
from rules.wordcount import TEXT_EXTENSIONS, extension, statement_limit

log = logging.getLogger(__name__)

_NOT_READ = Extracted(None, reason="文件未读取")


@dataclass
class Validation:
    """What validating one mail found (for logs and tests)."""

    counts: dict[int, int] = field(default_factory=dict)  # id() of the file row -> 字数 (statements only)
    problems: list[str] = field(default_factory=list)  # problem codes added


def stored_texts(s: Session, mail: Mail, storage: Storage) -> dict[str, Extracted]:
    """``extract_texts`` over the files ``mail`` already has in the store: for a coordinator's command
    (a hand assignment, a fetched cloud file) that validates one mail again. The documents are read
    under the same limits as in a poll, while the command's transaction waits."""
    files = []
    for att in s.scalars(select(Attachment).where(Attachment.mail_id == mail.id).order_by(Attachment.id)):
        try:
            files.append((att.sha256, storage.resolve(att.stored_file.path), att.filename))
        except ValueError:
            continue  # not in the store: validate_mail says the text could not be read
    return extract_texts(files)


def validate_mail(
    s: Session,
    mail: Mail,
    texts: dict[str, Extracted],
    catalogue: Catalogue,
    *,
    fresh: Recorded | None = None,
) -> Validation:
    """Validate every file of ``mail`` from the ``texts`` read before; idempotent per (file, code).

    ``fresh``: what ``record_submission`` has just written for the mail in this transaction (its
    files, assignments and problems, perhaps not flushed yet), so that nothing is read back; without
    it, they are queried."""
    result = Validation()
    indicators: dict[int, list[str]] = {}  # id() of a file row -> indicators it counts for
    if fresh is not None:
        attachments = fresh.attachments
        existing = {(id(att) if att is not None else None, code) for att, code in fresh.problems}
        for att, indicator_id in fresh.assignments:
            indicators.setdefault(id(att), []).append(indicator_id)
    else:
        attachments = list(s.scalars(select(Attachment).where(Attachment.mail_id == mail.id).order_by(Attachment.id)))
        by_id = {a.id: a for a in attachments}
        existing = {
            (id(by_id[p.attachment_id]) if p.attachment_id in by_id else None, p.code)
            for p in s.scalars(select(Problem).where(Problem.mail_id == mail.id))
        }
        current = select(Assignment.attachment_id, Assignment.indicator_id).where(
            Assignment.attachment_id.in_(list(by_id)), Assignment.is_current
        )
        for att_id, indicator_id in s.execute(current):
            indicators.setdefault(id(by_id[att_id]), []).append(indicator_id)
    readable = [a for a in attachments if extension(a.filename) in TEXT_EXTENSIONS]

    def add(att: Attachment | None, code: str, detail: str) -> None:
        key = (id(att) if att is not None else None, code)
        if key in existing:
            return
        existing.add(key)
        s.add(Problem(mail=mail, attachment=att, code=code, detail=detail))
        result.problems.append(code)

    for att in readable:
        extracted = texts.get(att.sha256, _NOT_READ)
        if extracted.limit is not None:
            add(
                att,
                codes.OVER_LIMIT,
                f"附件《{att.filename}》超出自动处理的限制：{extracted.reason}。文件已收到并保存，"
                "但未能自动统计字数和检查涉密标记，将由协调人人工查看。",
            )
            _review_over_limit(s, mail, att, extracted)
            continue
        marks = classification_marks(extracted.head) if extracted.ok else ()
        if marks:
            add(
                att,
                codes.POSSIBLY_CLASSIFIED,
                f"附件《{att.filename}》的标题或开头含“{'、'.join(marks)}”字样，可能为涉密材料；"
                "涉密材料不得通过邮件报送，应在实地核验时提供",
            )
        for indicator_id in indicators.get(id(att), []):
            indicator = catalogue.get(indicator_id)
            limit = statement_limit(att.filename, indicator) if indicator is not None else None
            if limit is None:
                continue
            if extracted.words is None:
                add(
                    att,
                    codes.WORD_COUNT_UNKNOWN,
                    f"附件《{att.filename}》（指标{indicator_id}情况说明）无法自动统计字数：{extracted.reason}；"
                    f"请自行确认不超过{limit}字。",
                )
                continue
            words = extracted.words
            result.counts[id(att)] = words
            if words > limit:
                add(
                    att,
                    codes.OVER_WORD_LIMIT,
                    f"附件《{att.filename}》（指标{indicator_id}情况说明）约{words}字，"
                    f"超过{limit}字的篇幅要求，请精简后重新报送。",
                )

    if any(code == codes.POSSIBLY_CLASSIFIED for _, code in existing):
        _tell_coordinator(s, mail)
    return result


def _review_over_limit(s: Session, mail: Mail, att: Attachment, extracted: Extracted) -> None:
    s.flush()  # the rows it looks for, and the ids it reads
    found = s.scalar(
        select(ReviewItem.id).where(ReviewItem.attachment_id == att.id, ReviewItem.reason == codes.OVER_LIMIT)
    )
    if found is not None:
        return
    s.add(
        ReviewItem(
            mail_id=mail.id,
            attachment_id=att.id,
            reason=codes.OVER_LIMIT,
            detail=(
                f"{mail.from_addr} 发来的《{att.filename}》超出自动处理的限制（{extracted.reason}）。"
                "文件已按原样保存，未统计字数、未检查涉密标记；可能是过大的文档，也可能是恶意构造的文件。"
                "请用 intake review 查看后决定。"
            ),
            candidates=[],
        )
    )


def _tell_coordinator(s: Session, mail: Mail) -> None:
    """One review item per mail: the coordinator decides whether the material may be used at all."""
    s.flush()
    found = s.scalar(
        select(ReviewItem.id).where(ReviewItem.mail_id == mail.id, ReviewItem.reason == codes.POSSIBLY_CLASSIFIED)
    )
    if found is not None:
        return
    s.add(
        ReviewItem(
            mail_id=mail.id,
            reason=codes.POSSIBLY_CLASSIFIED,
            detail=(
                f"{mail.from_addr} 的邮件“{mail.subject}”可能含涉密材料（报送规则第4条：涉密的材料不上传，"
                "在实地核验时提供）。相关文件不会导出；请核实并提醒报送人。"
            ),
            candidates=[],
        )
    )


def classified_attachment_ids(s: Session) -> set[int]:
    """Files that must stay out of the export: flagged themselves, or sent in a mail whose subject
    was flagged (the whole mail is suspect then); a flag the coordinator cleared no longer counts."""
    flagged: set[int] = set()
    mails_flagged: set[int] = set()
    for att_id, mail_id in s.execute(
        select(Problem.attachment_id, Problem.mail_id).where(
            Problem.code == codes.POSSIBLY_CLASSIFIED, Problem.cleared_at.is_(None)
        )
    ):
        if att_id is None:
            mails_flagged.add(mail_id)
        else:
            flagged.add(att_id)
    if mails_flagged:
        flagged |= set(s.scalars(select(Attachment.id).where(Attachment.mail_id.in_(mails_flagged))))
    return flagged
