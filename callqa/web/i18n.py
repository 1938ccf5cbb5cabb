"""The web app's words in Simplified Chinese and English, and which language a request gets.

One catalogue, keyed by message id, each entry (English, Chinese). Templates call ``t("key")``; a test
checks that every key used by a template exists here with both languages.
"""

from __future__ import annotations

from collections.abc import Mapping

from callqa.web import messages_privacy, messages_queue, messages_team
from rules import wording
from scorecards.people.exports import Labels
from scorecards.people.wording import default_band_name

LANGUAGES = ("zh", "en")

CATALOGUE: dict[str, tuple[str, str]] = {
    "app.title": ("callqa call quality", "callqa 通话质检"),
    "nav.queue": ("Review queue", "复核队列"),
    "nav.me": ("My calls", "我的通话"),
    "nav.team": ("Team", "团队"),
    "nav.disputes": ("Disputes", "申诉"),
    "nav.rules": ("Rule health", "规则健康度"),
    "nav.runs": ("Runs", "运行记录"),
    "nav.exports": ("Exports", "导出"),
    "nav.settings": ("Settings", "设置"),
    "nav.logout": ("Sign out", "退出"),
    "login.title": ("Sign in", "登录"),
    "login.name": ("User name", "用户名"),
    "login.password": ("Password", "密码"),
    "login.submit": ("Sign in", "登录"),
    "login.failed": ("Wrong user name or password.", "用户名或密码错误。"),
    "login.throttled": ("Too many failed attempts. Try again in {seconds} s.", "失败次数过多，请 {seconds} 秒后再试。"),
    "login.expired": ("Your session has ended. Please sign in again.", "会话已结束，请重新登录。"),
    "error.title": ("Something is wrong", "出错了"),
    "error.404": ("Not found, or not yours to see.", "未找到，或您无权查看。"),
    "error.403": ("You may not do this.", "您无权执行此操作。"),
    "error.422": ("The request has a field with a wrong value.", "请求中有字段的值不正确。"),
    "error.500": ("Something went wrong on the server; it has been logged.", "服务器出错，已记录日志。"),
    "error.503": ("The database is busy; please reload in a moment.", "数据库正忙，请稍后刷新。"),
    "error.failed": ("This could not be done:", "无法完成此操作："),
    "error.back": ("Back to the start page", "返回首页"),
    "queue.title": ("Review queue", "复核队列"),
    "queue.empty": ("Nothing to review for these filters.", "当前筛选条件下没有需要复核的通话。"),
    "filter.since": ("From", "开始日期"),
    "filter.until": ("To", "结束日期"),
    "filter.team": ("Team", "团队"),
    "filter.agent": ("Agent", "坐席"),
    "filter.item": ("Item", "质检项"),
    "filter.reason": ("Reason", "原因"),
    "filter.any": ("(any)", "（全部）"),
    "filter.apply": ("Filter", "筛选"),
    "col.call": ("Call", "通话"),
    "col.started": ("Started", "开始时间"),
    "col.agent": ("Agent", "坐席"),
    "col.team": ("Team", "团队"),
    "col.score": ("Score", "得分"),
    "col.band": ("Band", "等级"),
    "col.why": ("Why it is here", "入队原因"),
    "col.item": ("Item", "质检项"),
    "col.verdict": ("Verdict", "判定"),
    "col.time": ("Time", "时间"),
    "col.role": ("Speaker", "说话人"),
    "col.text": ("Text", "内容"),
    "col.status": ("Status", "状态"),
    "col.comment": ("Comment", "说明"),
    "col.answer": ("Answer", "答复"),
    "reason.veto": ("veto", "一票否决"),
    "reason.fail": ("failed item", "未通过项"),
    "reason.uncertain": ("uncertain verdict", "判定不确定"),
    "reason.anger": ("customer anger", "客户愤怒"),
    "reason.dispute": ("open dispute", "待处理申诉"),
    "reason.sample": ("random sample", "随机抽检"),
    "verdict.pass": ("pass", "通过"),
    "verdict.fail": ("fail", "未通过"),
    "verdict.n/a": ("n/a", "不适用"),
    "verdict.uncertain": ("uncertain", "不确定"),
    "role.agent": ("agent", "坐席"),
    "role.customer": ("customer", "客户"),
    "role.unknown": ("unknown", "未知"),
    "role.admin": ("admin", "管理员"),
    "role.qa": ("QA", "质检员"),
    "role.supervisor": ("supervisor", "主管"),
    "call.title": ("Call", "通话"),
    "call.transcript": ("Transcript", "转写文本"),
    "call.scorecard": ("Scorecard", "评分卡"),
    "call.automatic_total": ("Automatic score", "自动评分"),
    "call.reviewed_total": ("Reviewed score", "复核后评分"),
    "call.not_reviewed": ("not reviewed", "未复核"),
    "call.evidence": ("Evidence", "证据"),
    "call.play": ("Play", "播放"),
    "call.automatic": ("automatic", "自动"),
    "call.review": ("review", "复核"),
    "call.confirm": ("Confirm", "确认"),
    "decision.confirm": ("confirmed", "已确认"),
    "decision.overturn": ("overturned", "已改判"),
    "call.overturn": ("Overturn to", "改判为"),
    "call.comment": ("Comment", "说明"),
    "call.anger": ("anger", "愤怒度"),
    "call.veto": ("veto", "一票否决"),
    "call.reason": ("Why", "理由"),
    "call.points": ("{n:g} points", "{n:g} 分"),
    "call.points#one": ("{n:g} point", "{n:g} 分"),
    "call.sections": ("Sections", "分项得分"),
    "call.disputes": ("Disputes", "申诉"),
    "call.acknowledged": ("Acknowledged", "已确认"),
    "call.acknowledge": ("Acknowledge this scorecard", "确认此评分卡"),
    "call.dispute": ("Dispute this item", "对此项申诉"),
    "call.looked_in": ("looked in", "检索范围"),
    "call.unreliable": ("low confidence", "置信度低"),
    "call.no_audio": ("The recording is not available.", "录音不可用。"),
    "dispute.open": ("open", "待处理"),
    "dispute.upheld": ("upheld", "已支持"),
    "dispute.rejected": ("rejected", "已驳回"),
    "dispute.seen": ("seen by the agent", "坐席已查看"),
    "dispute.uphold": ("Uphold", "支持申诉"),
    "dispute.reject": ("Reject", "驳回申诉"),
    "dispute.answer": ("Answer", "答复"),
    "dispute.verdict": ("Corrected verdict", "更正后的判定"),
    "disputes.title": ("Disputes", "申诉"),
    "disputes.empty": ("No disputes.", "没有申诉。"),
    "me.title": ("My calls", "我的通话"),
    "me.missed": ("Missed items in my latest calls", "最近通话中未通过的项"),
    "me.say_instead": ("What to say instead", "建议话术"),
    "me.radar": ("Section scores: me and the team", "分项得分：我与团队"),
    "me.trend": ("Weekly score", "每周得分"),
    "me.nothing_missed": ("Nothing missed in the latest calls.", "最近的通话没有未通过的项。"),
    "me.you": ("me", "我"),
    "me.team_average": ("team average", "团队平均"),
    "me.emotion": ("Emotion in my calls", "我的通话情绪"),
    "me.angry_share": ("Calls where the customer got angry", "客户发火的通话"),
    "me.of_customer_calls": ("of {n} calls where the customer spoke", "共 {n} 通客户有发言的通话"),
    "me.calmer_share": ("Customers upset from the start who were calmer by the end",
                        "一开始就不满、到结束时平静下来的客户"),
    "me.of_upset": ("of {n} upset from the start", "共 {n} 位一开始就不满"),
    "me.tone_share": ("Calls where I sounded angry or impatient", "我语气生气或不耐烦的通话"),
    "me.of_calls": ("of {n} calls", "共 {n} 通"),
    "me.emotion_note": ("Each call counts once; calls not yet checked for emotion are left out. Explaining bad news "
                        "can sound tense: listen to the call before drawing conclusions.",
                        "每通电话只计一次；尚未做情绪分析的通话不计入。解释坏消息时语气可能听起来紧张："
                        "请先听录音再下结论。"),
    "me.unacknowledged": ("{n} scorecards not acknowledged yet.", "还有 {n} 张评分卡未确认。"),
    "me.unacknowledged#one": ("{n} scorecard not acknowledged yet.", "还有 {n} 张评分卡未确认。"),
    "me.disputes": ("My disputes", "我的申诉"),
    "team.title": ("Team heat-map", "团队热力图"),
    "team.days": ("Days", "天数"),
    "team.sort": ("Sort by", "排序"),
    "team.sort_agent": ("agent", "坐席"),
    "team.sort_worst": ("lowest pass rate", "通过率最低"),
    "team.sort_best": ("highest pass rate", "通过率最高"),
    "team.overall": ("All items", "全部项"),
    "team.legend": ("red < 60 %, orange < 75 %, yellow < 90 %, green ≥ 90 %",
                    "红 < 60%，橙 < 75%，黄 < 90%，绿 ≥ 90%"),
    "rules.title": ("Rule health", "规则健康度"),
    "rules.reviewed": ("Reviewed", "已复核"),
    "rules.agreement": ("Agreement", "一致率"),
    "rules.fail_precision": ("Fails upheld", "未通过判定被确认"),
    "rules.pass_precision": ("Passes upheld", "通过判定被确认"),
    "rules.uncertain": ("Uncertain resolved", "不确定判定的复核"),
    "rules.flagged": ("below agreement", "一致率偏低"),
    "rules.below_gate": ("fails overturned", "未通过判定常被推翻"),
    "rules.false_deductions": ("False deductions", "误扣分"),
    "rules.uncertain_share": ("Sent to review", "转人工复核"),
    "rules.min_fail_precision": ("Minimum fails upheld", "未通过判定最低确认率"),
    "rules.regressions": ("Download the regression examples (YAML)", "下载回归样例（YAML）"),
    "rules.min_agreement": ("Minimum agreement", "最低一致率"),
    "runs.title": ("Nightly runs", "夜间运行记录"),
    "runs.started": ("Started", "开始"),
    "runs.calls": ("Calls", "通话数"),
    "runs.failed": ("Failed", "失败"),
    "runs.hours": ("Audio hours", "音频小时数"),
    "runs.rtf": ("RTF", "实时率"),
    "runs.checklists": ("Checklists", "检查表版本"),
    "runs.failures": ("Failures", "失败原因"),
    "exports.title": ("Export scorecards and verdicts", "导出评分卡与判定"),
    "exports.kind": ("What", "内容"),
    "exports.scorecards": ("scorecards", "评分卡"),
    "exports.verdicts": ("verdicts", "判定明细"),
    "exports.format": ("Format", "格式"),
    "exports.download": ("Download", "下载"),
    "exports.bom": ("CSV byte-order mark", "CSV 字节顺序标记"),
    "exports.bom_yes": ("with (Excel shows Chinese correctly)", "带（Excel 正确显示中文）"),
    "exports.bom_no": ("without (for scripts)", "不带（供脚本使用）"),
    "settings.title": ("Settings", "设置"),
    "settings.language": ("Language", "语言"),
    "settings.browser": ("as the browser asks", "跟随浏览器"),
    "settings.save": ("Save", "保存"),
    "settings.saved": ("Saved.", "已保存。"),
    "common.none": ("—", "—"),
    "common.colon": (": ", "："),  # between a label and what it labels
    "common.prev": ("Previous", "上一页"),
    "common.next": ("Next", "下一页"),
    "common.total": ("{n} in all", "共 {n} 条"),
}
CATALOGUE |= messages_queue.MESSAGES | messages_team.MESSAGES | messages_privacy.MESSAGES | wording.MESSAGES

band_name = default_band_name  # a band with no checklist to ask (the queue's, the page helper ``band``)


def export_labels(language: str, bands: Mapping[str, str]) -> Labels:
    """The words for the codes of a CSV export in ``language``; ``bands``: the band names in it
    (:meth:`scorecards.people.wording.Wording.band_labels`)."""
    return Labels(
        bands=dict(bands),
        verdicts={v: translate(language, f"verdict.{v}") for v in ("pass", "fail", "n/a", "uncertain")},
        decisions={d: translate(language, f"decision.{d}") for d in ("confirm", "overturn")},
    )


def translate(language: str, key: str, **values: object) -> str:
    """The message ``key`` in ``language`` (``zh`` or anything else for English), formatted with ``values``.

    An unknown key shows as itself, so a missing entry is visible on the page (and the catalogue test
    catches it before that). ``n`` of 1 picks the ``key#one`` form where there is one.
    """
    return wording.lookup(CATALOGUE, language, key, values)


def language_from_header(accept_language: str | None) -> str:
    """``zh`` when the browser's most preferred language (by q-value, then order) is Chinese, else ``en``."""
    best: tuple[float, int, str] | None = None
    for order, part in enumerate((accept_language or "").split(",")):
        fields = part.strip().split(";")
        tag = fields[0].strip().lower()
        if not tag or tag == "*":
            continue
        q = 1.0
        for param in fields[1:]:
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if q > 0 and (best is None or (q, -order) > (best[0], best[1])):
            best = (q, -order, tag)
    return "zh" if best is not None and best[2].split("-")[0] == "zh" else "en"


def pick_language(user_language: str | None, accept_language: str | None) -> str:
    """The account's own setting when it has one, else what the browser asks for."""
    if user_language in LANGUAGES:
        return user_language
    return language_from_header(accept_language)
