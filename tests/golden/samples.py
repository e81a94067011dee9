"""Fixed, realistic contexts for every mail kind: the golden tests and the screenshot test use them."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from bot.outgoing.messages import (
    ArrivalLine,
    CloudFileLine,
    CloudLinkLine,
    CommandReplyContext,
    DeclarationLine,
    DigestContext,
    ErrorLine,
    FailedSendLine,
    FileLine,
    IndicatorRef,
    MailContext,
    MailKind,
    OutstandingItem,
    OverdueLine,
    ProgressLine,
    ReceiptContext,
    ReminderContext,
    ReturnNoticeContext,
    ReviewLine,
    not_owner,
    over_word_limit,
    possibly_classified,
)

CST = timezone(timedelta(hours=8), "CST")
TITLE = "2025年度法治政府建设示范创建"
MAILBOX = "jzhbjfzk@163.com"
SIGNATURE = "焦作市生态环境局法规科"
DEADLINE = date(2025, 6, 30)

I12 = IndicatorRef("12", "制定并公开年度依法行政工作计划", "2024年1月1日至2024年12月31日")
I13 = IndicatorRef("13", "落实重大行政决策程序规定", None)
I27 = IndicatorRef("27", "开展行政执法案卷评查", "2024年度")
I31 = IndicatorRef("31", "落实“谁执法谁普法”普法责任制", "2024年度")


def receipt() -> ReceiptContext:
    return ReceiptContext(
        campaign_title=TITLE,
        mailbox=MAILBOX,
        recipient_name="王丽",
        section="大气环境科",
        mail_subject="指标12-大气环境科-依法行政工作计划",
        mail_date=datetime(2025, 6, 20, 10, 15, tzinfo=CST),
        files=(
            FileLine("指标12-2024年依法行政工作计划.pdf", (I12,)),
            FileLine("执法案卷评查及普法台账.xlsx", (I27, I31)),
            FileLine("扫描件001.jpg", (), "文件名和邮件主题均未注明指标编号"),
        ),
        declarations=(I13,),
        problems=(
            over_word_limit("指标27-情况说明.docx", 1386, 1000),
            not_owner("执法案卷评查及普法台账.xlsx", "31", "大气环境科"),
            possibly_classified("内部会议纪要（机密）.pdf"),
        ),
        cloud_links=(
            CloudLinkLine("执法全过程记录视频.zip", "1.2G", datetime(2025, 7, 5, 10, 15, tzinfo=CST)),
        ),
        outstanding=(
            IndicatorRef("14", "建立健全行政规范性文件合法性审核机制", "2024年度"),
            IndicatorRef("15", "开展行政规范性文件清理", None),
        ),
        deadline=DEADLINE,
        signature=SIGNATURE,
    )


def reminder(days_left: int = 3) -> ReminderContext:
    return ReminderContext(
        campaign_title=TITLE,
        mailbox=MAILBOX,
        section="水生态环境科",
        owners=("李明", "赵静"),
        deadline=DEADLINE,
        days_left=days_left,
        outstanding=(
            OutstandingItem(
                "12",
                "制定并公开年度依法行政工作计划",
                "年度依法行政工作计划文件及公开截图",
                "2024年1月1日至2024年12月31日",
            ),
            OutstandingItem("13", "落实重大行政决策程序规定", "重大行政决策目录及程序材料", None),
            OutstandingItem("40", "配合开展法治督察", None, None),
        ),
        subject_example="指标12-水生态环境科-依法行政工作计划",
        coordinator_copied=days_left < 0,
        signature=SIGNATURE,
    )


def digest(days_left: int = 10) -> DigestContext:
    at = datetime(2025, 6, 20, 17, 30, tzinfo=CST)
    return DigestContext(
        campaign_title=TITLE,
        generated_at=at,
        since=datetime(2025, 6, 19, 17, 30, tzinfo=CST),
        deadline=DEADLINE,
        days_left=days_left,
        overall=ProgressLine("全部指标", 41, 64),
        by_level1=(
            ProgressLine("一、政府职能依法全面履行", 9, 10),
            ProgressLine("二、依法行政制度体系", 6, 12),
            ProgressLine("三、行政决策科学民主合法", 8, 8),
            ProgressLine("四、行政执法严格规范公正文明", 12, 20),
            ProgressLine("五、突发事件应对", 0, 4),
            ProgressLine("六、社会矛盾纠纷化解", 6, 10),
        ),
        by_section=(
            ProgressLine("法规科", 14, 15),
            ProgressLine("大气环境科", 7, 12),
            ProgressLine("水生态环境科", 3, 11),
            ProgressLine("办公室", 10, 10),
            ProgressLine("执法支队", 7, 16),
        ),
        arrivals=(
            ArrivalLine(
                datetime(2025, 6, 20, 10, 15, tzinfo=CST),
                "wangli@jzhb.gov.cn",
                "大气环境科",
                "指标12-大气环境科-依法行政工作计划",
                3,
                ("12", "27", "31"),
            ),
            ArrivalLine(
                datetime(2025, 6, 20, 15, 2, tzinfo=CST),
                "someone@qq.com",
                None,
                "材料",
                1,
                (),
            ),
        ),
        review_queue=(
            ReviewLine(7, datetime(2025, 6, 20, 10, 15, tzinfo=CST), "wangli@jzhb.gov.cn", "扫描件001.jpg",
                       "文件名和邮件主题均未注明指标编号", ("27", "28")),
            ReviewLine(8, datetime(2025, 6, 20, 15, 2, tzinfo=CST), "someone@qq.com", None,
                       "发件人不在责任科室名单中", ()),
        ),
        declarations=(
            DeclarationLine("13", "大气环境科", "mail", datetime(2025, 6, 20, 10, 15, tzinfo=CST)),
            DeclarationLine("加1", "法规科", "coordinator", datetime(2025, 6, 20, 11, 40, tzinfo=CST)),
        ),
        overdue_sections=(
            (OverdueLine("水生态环境科", 8, -days_left), OverdueLine("执法支队", 9, -days_left))
            if days_left < 0
            else ()
        ),
        cloud_expiring=(
            CloudFileLine("执法全过程记录视频.zip", "wangli@jzhb.gov.cn", "https://mail.163.com/large-attachment/abc",
                          datetime(2025, 6, 22, 10, 15, tzinfo=CST)),
        ),
        failed_sends=(
            FailedSendLine(
                "receipt", ("nobody@example.cn",), "回执：材料", "554 DT:SPM 发送的邮件内容包含了未被许可的信息"
            ),
        ),
        errors=(
            ErrorLine(datetime(2025, 6, 20, 9, 1, tzinfo=CST), "zhao@jzhb.gov.cn", "指标40-材料",
                      "附件解压失败：压缩包已损坏",
                      "原始邮件：/var/lib/intake/files/mail/3f/3f9c.eml；邮箱文件夹 INBOX 中 UID 1207"),
        ),
    )


def command_reply() -> CommandReplyContext:
    return CommandReplyContext(
        command="#分配 7 指标27",
        ok=True,
        lines=("待核对事项 #7 已登记为指标27。", "大气环境科尚缺指标：14、15。"),
    )


def command_confirm() -> CommandReplyContext:
    return CommandReplyContext(
        command="退回 A34 原因：缺少盖章页",
        ok=False,
        lines=("无法确认该邮件确由协调人发出：邮件没有 Authentication-Results（收件服务器未给出验证结果）",),
        code="7KQ2M9XD",
        expires_at=datetime(2021, 10, 21, 10, 0, tzinfo=CST),
    )


def return_notice() -> ReturnNoticeContext:
    return ReturnNoticeContext(
        campaign_title=TITLE,
        mailbox=MAILBOX,
        recipient_name="王丽",
        section="大气环境科",
        mail_subject="指标27-大气环境科-案卷评查",
        mail_date=datetime(2025, 6, 18, 16, 40, tzinfo=CST),
        filename="指标27-情况说明.docx",
        indicator=I27,
        reason="情况说明约1386字，超过1000字的篇幅要求；请精简至1000字以内，并补充评查结果统计表。",
        subject_example="指标27-大气环境科-案卷评查情况说明",
        deadline=DEADLINE,
        signature=SIGNATURE,
    )


def problem_free_receipt() -> ReceiptContext:
    """A receipt with nothing to report but one recorded file and nothing owed."""
    return ReceiptContext(
        campaign_title=TITLE,
        mailbox=MAILBOX,
        recipient_name="",
        section="办公室",
        mail_subject="",
        mail_date=None,
        files=(FileLine("指标40-法治督察配合情况.pdf", (IndicatorRef("40", "配合开展法治督察", None),)),),
        declarations=(),
        problems=(),
        cloud_links=(),
        outstanding=(),
        deadline=DEADLINE,
        signature=SIGNATURE,
    )


SAMPLES: dict[str, tuple[MailKind, MailContext]] = {
    "receipt": ("receipt", receipt()),
    "receipt_complete": ("receipt", problem_free_receipt()),
    "reminder": ("reminder", reminder(3)),
    "reminder_deadline_day": ("reminder", reminder(0)),
    "reminder_overdue": ("reminder", reminder(-2)),
    "digest": ("digest", digest()),
    "digest_overdue": ("digest", digest(-3)),
    "command_reply": ("command_reply", command_reply()),
    "command_confirm": ("command_reply", command_confirm()),
    "return_notice": ("return_notice", return_notice()),
}
