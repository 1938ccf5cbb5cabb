"""Verdict reasons in words, in English or Chinese, for the people a verdict is about.

The engine stores one line per verdict for rule authors (``reason``: define names, field names, what the
CLI prints). Agents and supervisors read the same facts rendered here from the checklist item itself:
what was looked for (the phrases, a few of them, in quotes; a regex as an example of what it matches),
who had to say it and where, and why the verdict is what it is. No regex source, no item or define id.

Every sentence comes from :data:`MESSAGES` (key → (English, Chinese)); the web app merges it into its
catalogue, so its language checks cover these words too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from enum import StrEnum
from itertools import zip_longest

from rules.model import (
    ROLE_ANCHORS,
    AllOf,
    AnyOf,
    Condition,
    Item,
    MetadataTest,
    MetricTest,
    Not,
    Says,
    Window,
    shorten,
)
from rules.regex_words import example

_REGEX_SYNTAX = re.compile(r"[\\()\[\]|?*+{}^$]")  # left in an "example" only when the pattern was unreadable
SHOWN_PHRASES = 3  # phrases quoted per predicate: enough to recognise the item, short enough for a phone


class ReasonKind(StrEnum):
    """Why a verdict is what it is; the engine's reason line starts with the matching :data:`PREFIXES` entry."""

    MET = "met"
    MISSED = "missed"
    NOT_APPLICABLE = "not_applicable"
    LOW_CONFIDENCE = "low_confidence"
    UNRELIABLE_TRANSCRIPT = "unreliable_transcript"
    TRIGGER_UNRELIABLE = "trigger_unreliable"
    DOUBT = "doubt"


# The engine's reason lines (rules.engine.judge) begin with these; reason_kind() reads them back, so stored
# scorecards of every age are worded without a new column.
PREFIXES: Mapping[ReasonKind, str] = {
    ReasonKind.NOT_APPLICABLE: "does not apply: ",
    ReasonKind.LOW_CONFIDENCE: "rests on low-confidence words or an uncertain role",
    ReasonKind.UNRELIABLE_TRANSCRIPT: "not found, but the transcript there is unreliable",
    ReasonKind.TRIGGER_UNRELIABLE: "may not apply: its trigger was heard unreliably",
    ReasonKind.MISSED: "missed: ",
    ReasonKind.DOUBT: "not found, but ",  # after UNRELIABLE_TRANSCRIPT, whose line starts the same way
}

MESSAGES: dict[str, tuple[str, str]] = {
    "why.met": ("Done: {what}.", "已做到：{what}。"),
    "why.missed": ("Missed: {what}.", "未做到：{what}。"),
    "why.said": ("Said what this item rules out: {what}.", "说了本项不允许的话：{what}。"),
    "why.not_applicable": ("Does not apply to this call: it applies when {what}.", "本通话不适用：适用条件是{what}。"),
    "why.low_confidence": ("Uncertain: the words were heard with low confidence, or who said them is unclear "
                           "(looked for: {what}).",
                           "不确定：相关的话识别置信度低，或说话人不确定（检查的是：{what}）。"),
    "why.unreliable_transcript": ("Uncertain: not found, but the transcript there is unreliable (looked for: "
                                  "{what}).",
                                  "不确定：没有找到，但那一段转写不可靠（检查的是：{what}）。"),
    "why.trigger_unreliable": ("Uncertain: this item may not apply, since what triggers it was heard unreliably "
                               "(looked for: {what}).",
                               "不确定：触发本项的话识别不可靠，本项可能不适用（检查的是：{what}）。"),
    "why.doubt": ("Uncertain: not found, but {doubt} (looked for: {what}).",
                  "不确定：没有找到，但{doubt}（检查的是：{what}）。"),
    "who.agent": ("the agent", "坐席"),
    "who.customer": ("the customer", "客户"),
    "who.any": ("anyone", "任一方"),
    "says": ("{who} says {phrases}{count}{where}", "{who}{where}说{phrases}{count}"),
    "says.not": ("{who} does not say {phrases}{count}{where}", "{who}{where}没有说{phrases}{count}"),
    "says.echo": ("{who} repeats back what the other party just said", "{who}复述对方刚说的内容"),
    "phrases.quoted": ("“{first}”", "“{first}”"),
    "phrases.list": ("{list}", "{list}"),
    "phrases.more": ("{list} or the like", "{list}等"),
    "phrases.regex": ("words like {list}", "类似{list}的话"),
    "phrases.similar": ("something meaning {list}", "意思接近{list}的话"),
    "phrases.sep": (", ", "、"),
    "phrases.unreadable": ("the checklist's phrases", "清单中的说法"),
    "count.at_most": (" at most {n} times", "不超过 {n} 次"),
    "count.at_most#one": (" at most once", "不超过 1 次"),
    "count.range": (" {lo}–{hi} times", " {lo}–{hi} 次"),
    "count.at_least": (" at least {n} times", "至少 {n} 次"),
    "window.first_seconds": (" in the first {n} s", "在前 {n} 秒内"),
    "window.last_seconds": (" in the last {n} s", "在最后 {n} 秒内"),
    "window.first_utterances": (" in the first {n} utterances", "在前 {n} 句内"),
    "window.first_utterances#one": (" in the first utterance", "在第一句内"),
    "window.last_utterances": (" in the last {n} utterances", "在最后 {n} 句内"),
    "window.last_utterances#one": (" in the last utterance", "在最后一句内"),
    "window.first_percent": (" in the first {n} % of the call", "在通话前 {n}% 内"),
    "window.last_percent": (" in the last {n} % of the call", "在通话最后 {n}% 内"),
    "window.or": (" or", "或"),
    "within.after": (" within {limits} after {anchor}", "在{anchor}之后{limits}内"),
    "within.before": (" within {limits} before {anchor}", "在{anchor}之前{limits}内"),
    "within.each.after": (" within {limits} after every time {anchor}", "在每次{anchor}之后{limits}内"),
    "within.each.before": (" within {limits} before every time {anchor}", "在每次{anchor}之前{limits}内"),
    "within.turns": ("{n} turns", " {n} 轮"),
    "within.turns#one": ("{n} turn", " {n} 轮"),
    "within.seconds": ("{n} s", " {n} 秒"),
    "within.limits_or": (" or ", "或"),
    "anchor.party": ("{who} speaks", "{who}说话"),
    "anchor.says": ("{who} says {phrases}", "{who}说{phrases}"),
    "gap_after": (" followed by at least {n} s of silence", "，之后至少 {n} 秒无人说话"),
    "and": (" and ", "，并且"),
    "or": (" or ", "，或者"),
    "not": ("not ({what})", "并非（{what}）"),
    "field.is": ("{field} is {values}", "{field}为{values}"),
    "field.at_least": ("{field} is at least {value}", "{field}不少于 {value}"),
    "field.at_most": ("{field} is at most {value}", "{field}不超过 {value}"),
    "field.value": ("{field}: {value}", "{field}：{value}"),
    "values.or": (" or ", "或"),
    "metric.at_least": ("{metric} is at least {value}", "{metric}不少于 {value}"),
    "metric.at_most": ("{metric} is at most {value}", "{metric}不超过 {value}"),
    "metric.between": ("{metric} is between {lo} and {hi}", "{metric}在 {lo} 到 {hi} 之间"),
    "metric.value": ("{metric}: {value}", "{metric}：{value}"),
    # The call's metadata fields (core.types.CallMetadata, and duration), as a reader names them.
    "field.hangup_by": ("who hung up", "挂机方"),
    "field.queue": ("the queue", "队列"),
    "field.direction": ("the call direction", "呼叫方向"),
    "field.duration": ("the call's length in seconds", "通话时长（秒）"),
    "field.team": ("the team", "团队"),
    "field.agent_id": ("the agent", "坐席"),
    "field.language": ("the language", "语言"),
    "field.customer_number": ("the customer's number", "客户号码"),
    "field.external_id": ("the call reference", "通话编号"),
    "field.started_at": ("the start time", "开始时间"),
    "value.customer": ("the customer", "客户"),
    "value.agent": ("the agent", "坐席"),
    "value.inbound": ("inbound", "呼入"),
    "value.outbound": ("outbound", "呼出"),
    # The registered metrics (rules.metrics), as a reader names them.
    "metric.duration_s": ("the call's length (s)", "通话时长（秒）"),
    "metric.speech_time_s": ("the time anyone speaks (s)", "说话总时长（秒）"),
    "metric.speech_coverage": ("the share of the call with speech", "有人说话的时间占比"),
    "metric.turn_count": ("the number of turns", "话轮数"),
    "metric.silence_total_s": ("the time nobody speaks (s)", "静默总时长（秒）"),
    "metric.silence_ratio": ("the share of the call with nobody speaking", "静默时间占比"),
    "metric.longest_silence_s": ("the longest silence (s)", "最长静默（秒）"),
    "metric.dead_air_count": ("the number of silences of 10 s or more outside a hold", "等待以外 10 秒以上的静默次数"),
    "metric.dead_air_total_s": ("the dead air (s)", "冷场总时长（秒）"),
    "metric.hold_count": ("the number of holds", "等待次数"),
    "metric.hold_total_s": ("the time on hold (s)", "等待总时长（秒）"),
    "metric.longest_hold_s": ("the longest hold (s)", "最长等待（秒）"),
    "metric.overtalk_count": ("the number of times both spoke at once", "双方同时说话次数"),
    "metric.overtalk_total_s": ("the time both spoke at once (s)", "双方同时说话时长（秒）"),
    "metric.overtalk_estimated": ("whether overtalk is estimated", "抢话是否为估计值"),
    "metric.response_count": ("the number of agent answers", "坐席应答次数"),
    "metric.response_latency_mean_s": ("the agent's mean answer delay (s)", "坐席平均应答间隔（秒）"),
    "metric.response_latency_max_s": ("the agent's longest answer delay (s)", "坐席最长应答间隔（秒）"),
    "metric.interruptions_by_agent": ("the times the agent talked over the customer", "坐席打断客户次数"),
    "metric.interruptions_by_customer": ("the times the customer talked over the agent", "客户打断坐席次数"),
    "metric.customer_anger_max": ("the customer's highest anger (0–1)", "客户最高愤怒度（0–1）"),
}


def lookup(catalogue: Mapping[str, tuple[str, str]], language: str, key: str, values: Mapping[str, object]) -> str:
    """The message ``key`` of ``catalogue`` in ``language`` (``zh``, else English), formatted with ``values``;
    its ``key#one`` form when ``n`` is 1 and there is one. An unknown key shows as itself."""
    entry = catalogue.get(f"{key}#one") if values.get("n") == 1 else None  # the singular, where it differs
    entry = entry or catalogue.get(key)
    if entry is None:
        return key
    text = entry[1] if language == "zh" else entry[0]
    return text.format(**values) if values else text


def say(language: str, key: str, **values: object) -> str:
    """The message ``key`` of :data:`MESSAGES` in ``language`` (see :func:`lookup`)."""
    return lookup(MESSAGES, language, key, values)


def reason_kind(verdict: str, reason: str) -> ReasonKind:
    """The kind of a stored verdict's reason line (see :data:`PREFIXES`)."""
    if verdict == "pass":
        return ReasonKind.MET
    if verdict == "n/a":
        return ReasonKind.NOT_APPLICABLE
    for kind, prefix in PREFIXES.items():
        if reason.startswith(prefix) and kind is not ReasonKind.NOT_APPLICABLE:
            return kind
    return ReasonKind.MISSED if verdict == "fail" else ReasonKind.LOW_CONFIDENCE


def explain(item: Item, kind: ReasonKind, language: str, defines: Mapping[str, Says] | None = None) -> str:
    """One sentence: why ``item`` got a verdict of ``kind``, in ``language``.

    ``defines`` are the checklist's named predicates, so "within 4 turns after <define>" can say what
    that define listens for instead of naming it.
    """
    words = _Words(language, defines or {})
    what = words.condition(item.condition)
    if kind is ReasonKind.NOT_APPLICABLE:
        trigger = words.condition(item.applies_when) if item.applies_when is not None else what
        return say(language, "why.not_applicable", what=trigger)
    if kind is ReasonKind.TRIGGER_UNRELIABLE and item.applies_when is not None:
        return say(language, "why.trigger_unreliable", what=words.condition(item.applies_when))
    if kind is ReasonKind.DOUBT and item.uncertain_when is not None:
        return say(language, "why.doubt", doubt=words.condition(item.uncertain_when), what=what)
    if kind is ReasonKind.MISSED and isinstance(item.condition, Not):  # a banned phrase was heard
        return say(language, "why.said", what=words.condition(item.condition.part))
    if kind is ReasonKind.DOUBT:  # an item without uncertain_when: a stored line from an older checklist
        kind = ReasonKind.UNRELIABLE_TRANSCRIPT
    return say(language, f"why.{kind.value}", what=what)


def fact(name: str, value: str, kind: str, language: str) -> str:
    """A metadata or metric value a verdict rests on ("who hung up: the customer")."""
    if kind == "metric":
        return say(language, "metric.value", metric=_metric(language, name), value=value)
    return say(language, "field.value", field=_field(language, name), value=_value(language, value))


def _field(language: str, name: str) -> str:
    return say(language, f"field.{name}") if f"field.{name}" in MESSAGES else name


def _metric(language: str, name: str) -> str:
    return say(language, f"metric.{name}") if f"metric.{name}" in MESSAGES else name


def _value(language: str, value: object) -> str:
    key = f"value.{str(value).strip().casefold()}"
    if key in MESSAGES:
        return say(language, key)
    if str(value) in ("客户", "坐席"):  # the Chinese spellings a checklist lists beside the English ones
        return say(language, "value.customer" if value == "客户" else "value.agent")
    return say(language, "phrases.quoted", first=value)  # the checklist's own value, as written


def _number(value: float) -> str:
    return f"{value:g}"


class _Words:
    def __init__(self, language: str, defines: Mapping[str, Says]) -> None:
        self.language = language
        self.defines = defines

    def say(self, key: str, **values: object) -> str:
        return say(self.language, key, **values)

    def condition(self, condition: Condition) -> str:
        if isinstance(condition, Says):
            return self.says(condition)
        if isinstance(condition, Not):
            part = condition.part
            if isinstance(part, Says) and part.match != "echo":
                return self.says([part], negated=True)
            if isinstance(part, AnyOf) and len(groups := _alike(part.parts)) == 1 and isinstance(groups[0], list):
                return self.says(groups[0], negated=True)  # "does not say any of these" reads as one sentence
            return self.say("not", what=self.condition(part))
        if isinstance(condition, AnyOf):  # alternatives said alike pooled into one phrase list
            return self.say("or").join(self.says(g) if isinstance(g, list) else self.condition(g)
                                       for g in _alike(condition.parts))
        if isinstance(condition, AllOf):
            return self.say("and").join(self.condition(part) for part in condition.parts)
        if isinstance(condition, MetadataTest):
            return self.metadata(condition)
        return self.metric(condition)

    def who(self, role: str) -> str:
        return self.say(f"who.{role}") if role in ("agent", "customer", "any") else role

    def phrases(self, group: list[Says], limit: int = SHOWN_PHRASES) -> str:
        """A few of the phrases the predicates listen for, quoted: the first of each predicate first."""
        lists = [_shown(says) for says in group]
        shown = list(dict.fromkeys(p for column in zip_longest(*lists) for p in column if p is not None))
        if not shown:
            return self.say("phrases.unreadable")
        sep = self.say("phrases.sep")
        listed = sep.join(self.say("phrases.quoted", first=shorten(p)) for p in shown[:limit])
        if all(says.match == "similar" for says in group):
            return self.say("phrases.similar", list=listed)
        if any(says.match == "regex" for says in group):
            return self.say("phrases.regex", list=listed)
        return self.say("phrases.more" if len(shown) > limit else "phrases.list", list=listed)

    def says(self, group: Says | list[Says], *, negated: bool = False) -> str:
        """What predicates said alike (one role, the same windows and counts) listen for, as one sentence."""
        group = group if isinstance(group, list) else [group]
        says = group[0]
        who = self.who(says.role)
        if says.match == "echo":
            return self.say("says.echo", who=who)
        count = ""
        if says.at_most is not None and not negated:
            count = (self.say("count.at_most", n=says.at_most) if says.at_least == 0
                     else self.say("count.range", lo=says.at_least, hi=says.at_most))  # fmt: skip
        elif says.at_least > 1:
            count = self.say("count.at_least", n=says.at_least)
        where = self.say("window.or").join(self.window(w) for w in says.windows)
        if says.within is not None:
            where += self.within(says)
        after = self.say("gap_after", n=_number(says.gap_after)) if says.gap_after is not None else ""
        return self.say("says.not" if negated else "says", who=who, phrases=self.phrases(group), count=count,
                        where=where) + after  # fmt: skip

    def window(self, window: Window) -> str:
        n = int(window.size) if window.size == int(window.size) else window.size
        return self.say(f"window.{window.kind}", n=n)

    def within(self, says: Says) -> str:
        within = says.within
        assert within is not None
        limits = [self.say("within.turns", n=within.turns) if within.turns is not None else "",
                  self.say("within.seconds", n=_number(within.seconds)) if within.seconds is not None else ""]
        limit = self.say("within.limits_or").join(x for x in limits if x)
        if within.anchor in ROLE_ANCHORS:
            anchor = self.say("anchor.party", who=self.who(within.anchor))
        elif (define := self.defines.get(within.anchor)) is not None:
            anchor = self.say("anchor.says", who=self.who(define.role), phrases=self.phrases([define], 1))
        else:
            anchor = within.anchor
        key = f"within.each.{within.direction}" if within.each else f"within.{within.direction}"
        return self.say(key, limits=limit, anchor=anchor)

    def metadata(self, test: MetadataTest) -> str:
        name = _field(self.language, test.field)
        if test.op in ("at_least", "at_most"):
            return self.say(f"field.{test.op}", field=name, value=test.value)
        values = test.value if isinstance(test.value, list | tuple) else [test.value]
        shown = list(dict.fromkeys(_value(self.language, v) for v in values))
        return self.say("field.is", field=name, values=self.say("values.or").join(shown))

    def metric(self, test: MetricTest) -> str:
        name = _metric(self.language, test.name)
        if test.at_least is not None and test.at_most is not None:
            return self.say("metric.between", metric=name, lo=_number(test.at_least), hi=_number(test.at_most))
        if test.at_least is not None:
            return self.say("metric.at_least", metric=name, value=_number(test.at_least))
        return self.say("metric.at_most", metric=name, value=_number(test.at_most or 0))


def _shown(says: Says) -> list[str]:
    """The phrases of a predicate as a reader sees them: a regex as an example of what it matches (a pattern
    the parser cannot read is left out rather than shown as source)."""
    if says.match == "regex":
        return [e for e in dict.fromkeys(example(p) for p in says.phrases) if not _REGEX_SYNTAX.search(e)]
    return list(dict.fromkeys(says.phrases))


def _alike(parts: Iterable[Condition]) -> list[Condition | list[Says]]:
    """Alternatives with runs of predicates said alike (same role, windows, nearness, count) grouped."""
    out: list[Condition | list[Says]] = []
    for part in parts:
        if isinstance(part, Says) and part.match != "echo":
            key = _manner(part)
            last = out[-1] if out else None
            if isinstance(last, list) and _manner(last[0]) == key:
                last.append(part)
                continue
            out.append([part])
        else:
            out.append(part)
    return out


def _manner(says: Says) -> tuple[object, ...]:
    return (says.role, says.windows, says.within, says.gap_after, says.at_least, says.at_most,
            says.match == "similar")  # fmt: skip


def localized(texts: Mapping[str, str], language: str, default: str) -> str:
    """A checklist text in ``language`` when the checklist has it (``translations``), else as written."""
    return texts.get(language) or default
