"""Every problem code and review reason, defined once.

Codes are stable strings stored in the database (``problem.code``, ``review_item.reason``) and shown
in receipts and the digest by their Chinese detail; renaming one is a data migration.
"""

from __future__ import annotations

# -- problems: findings about a mail or one of its files, reported to the sender -------------------
OUT_OF_RANGE = "out_of_range"  # a number that is not in the checklist (指标65, 加分项3)
CONFLICTING_NUMBERS = "conflicting_numbers"  # the file name and the subject name different items
DECLARED_AND_SUBMITTED = "declared_and_submitted"  # 无材料 for an item that also got a file
NO_MATERIALS_NEEDED = "no_materials_needed"  # a file for an item that needs none
UNMATCHED_ATTACHMENT = "unmatched_attachment"  # no indicator could be read for a file
NOT_OWNER = "not_owner"  # the sender's section is not responsible for the item
OVER_WORD_LIMIT = "over_word_limit"  # a 情况说明 longer than the item allows
WORD_COUNT_UNKNOWN = "word_count_unknown"  # a 情况说明 whose text cannot be read
POSSIBLY_CLASSIFIED = "possibly_classified"  # 涉密/秘密/机密/绝密 in a name, subject or document head
OVER_LIMIT = "over_limit"  # a file too big or too costly to read (size, zip bomb, pages, memory, time)
BIDI_IN_NAME = "bidi_in_name"  # a file name carried bidi controls (they can disguise the extension)
LATE = "late"  # the mail arrived after the end of the deadline day (rules.lateness); receipts say so

# -- review reasons: things the coordinator has to decide ------------------------------------------
NEEDS_REVIEW = "needs_review"  # the matcher could not place a file with certainty
UNKNOWN_SENDER = "unknown_sender"  # the sender is in no configured section
NO_MATERIAL = "no_material"  # a submission with no file, link or declaration
UNPARSEABLE = "unparseable"  # a mail nothing could be read from (kept raw)
COMMAND_REFUSED = "command_refused"  # command words in a mail intake did not obey
RECEIPT_CAPPED = "receipt_capped"  # a sender reached the daily cap of receipts
QUARANTINED = "quarantined"  # a mail the poller died on twice: set aside (kept raw), the poll went on
SENDER_UNVERIFIED = "sender_unverified"  # From unreliable or failing authentication (rules.sender)
COMMAND_PENDING = "command_pending"  # a command waits for the coordinator's confirmation code
EXECUTABLE = "executable"  # an executable or script: never material (rules.material)
DAMAGED_ENCODING = "damaged_encoding"  # the part's transfer encoding was damaged
CONTAINER_UNOPENED = "container_unopened"  # an archive intake could not open (encrypted, over a limit)
# The review reasons of files that are not material: never counted, never exported.
NOT_MATERIAL = frozenset({EXECUTABLE, DAMAGED_ENCODING, CONTAINER_UNOPENED})
# POSSIBLY_CLASSIFIED is also a review reason: the coordinator decides whether the file may be used.
# OVER_LIMIT is also a review reason: the coordinator looks at the file by hand.

# The short Chinese label of each review reason, as `intake review` and the digest list them.
REVIEW_LABELS: dict[str, str] = {
    NEEDS_REVIEW: "无法确定指标",
    UNKNOWN_SENDER: "发件人未登记",
    NO_MATERIAL: "无附件",
    UNPARSEABLE: "无法解析或处理",
    POSSIBLY_CLASSIFIED: "疑似涉密",
    COMMAND_REFUSED: "指令未执行",
    RECEIPT_CAPPED: "回执超限",
    OVER_LIMIT: "文件超出处理限制",
    QUARANTINED: "邮件处理中断",
    SENDER_UNVERIFIED: "发件人未验证",
    COMMAND_PENDING: "指令待确认",
    EXECUTABLE: "可执行文件",
    DAMAGED_ENCODING: "附件编码损坏",
    CONTAINER_UNOPENED: "压缩包未打开",
}
