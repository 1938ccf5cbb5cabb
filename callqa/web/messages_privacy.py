"""The words about personal data (English, Chinese): the call page's notes and the audit page, merged into the
catalogue by callqa.web.i18n."""

from __future__ import annotations

MESSAGES: dict[str, tuple[str, str]] = {
    # The call page (templates/_privacy.html).
    "privacy.hidden": ("Personal data is hidden in {n} places of this call; the recording is silent there.",
                       "此通话有 {n} 处个人信息已隐藏，录音中相应片段已静音。"),
    "privacy.hidden#one": ("Personal data is hidden in {n} place of this call; the recording is silent there.",
                           "此通话有 {n} 处个人信息已隐藏，录音中相应片段已静音。"),
    "privacy.show": ("Show personal data", "显示个人信息"),
    "privacy.hide": ("Hide personal data", "隐藏个人信息"),
    "privacy.shown": ("Personal data is shown in clear. Every view is recorded.",
                      "正在显示个人信息明文，每次查看都会被记录。"),
    "privacy.shown_audio": ("The original recording is played. Every hearing is recorded.",
                            "播放的是原始录音，每次收听都会被记录。"),
    "privacy.not_kept": ("The clear text is not kept under redaction mode “redact”; the original recording can "
                         "still be heard.",
                         "脱敏模式“redact”下不保留原文；仍可收听原始录音。"),
    "privacy.not_found": ("No clear text of this call was found; the original recording can still be heard.",
                          "未找到此通话的原文；仍可收听原始录音。"),
    "privacy.nothing_hidden": ("Nothing is hidden in this call.", "此通话没有隐藏任何内容。"),
    # The audit of clear reads (templates/pii_access.html).
    "nav.pii_access": ("Personal data access", "个人信息访问"),
    "pii_access.title": ("Personal data read in clear", "个人信息明文访问记录"),
    "pii_access.intro": ("Every time someone heard a call's original recording or read its clear text, newest first.",
                         "每次有人收听通话原始录音或查看原文的记录，最新的在前。"),
    "pii_access.empty": ("No one has read personal data in clear yet.", "尚无人查看过个人信息明文。"),
    "pii_access.when": ("When (UTC)", "时间（协调世界时）"),
    "pii_access.who": ("Who", "用户"),
    "pii_access.what": ("What", "内容"),
    "pii_access.audio": ("recording", "录音"),
    "pii_access.transcript": ("transcript", "转写文本"),
}
