"""Personal data in a call's transcript: where each phone, ID, card number, email, address, name and verification
answer was said.

Detectors read each utterance with what was said just before it (the agent's question, the speaker's own lead-in),
because a call spreads personal data over turns: "what's your number?" … "138" … "1234 5678". Numbers are
checked by what they are, not only by their length: Chinese resident IDs by their GB 11643 check digit and birth
date (python-stdnum), cards by Luhn (python-stdnum), phone numbers by Google's libphonenumber (``phonenumbers``) for
Chinese, US, UK and international numbers. Any other long digit run is still personal until shown otherwise:
it is found as ``NUMBER`` (recall over precision). docs/privacy.md says what is found, what is not, and how well.

Plain Python over :class:`core.types.Utterance`; :mod:`pipeline.redact` applies the findings to a transcript.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

import phonenumbers
from stdnum import luhn
from stdnum.cn import ric

from core.pii import KIND_PRIORITY, PiiKind
from core.types import Role, Utterance
from pipeline.pii_names import common_word, name_findings
from pipeline.pii_numbers import DigitRun, digit_runs, leading_run, trailing_run


@dataclass(frozen=True, slots=True)
class Finding:
    """One span of personal data: characters ``start:end`` of utterance ``utterance``'s text."""

    utterance: int
    start: int
    end: int
    kind: PiiKind
    detector: str
    confidence: float


# What a number is, from what was said before it: the latest of these cues in the speaker's lead-in and the turns
# before wins ("can I have the account number?" … "it's 88 1204 5573" is an account number, not a phone).
# A word that names a number only when one follows it ("order number", "order 4821…", not "in order to").
_ASKED = r"(?=\s*(?:number|no\b|#|id\b|code\b)|\s*(?:is\s*)?$)"
_CUES = {
    "secret": re.compile(r"last\s+(?:four|4|five|5|six|6|three|3)|end(?:ing|s)?\s+(?:in|with)|\bending\b|\bpin\b|"
                         r"pass\s*code|security\s+code|verification\s+code|\bcvv\b|"
                         r"(?<!zip )(?<!post )(?<!error )(?<!fault )(?<!promo )(?<!discount )(?<!product )(?<!status )"
                         r"(?<!voucher )(?<!coupon )(?<!model )\bcode\b|"
                         r"(?:\d|four|five|six)[\s-]*digit|后(?:四|4|六|6|三|3)位|尾号|验证码?|密码", re.IGNORECASE),
    "id": re.compile(r"(?<!member )(?<!customer )(?<!user )(?<!account )(?<!order )(?<!patient )(?<!student )"
                     r"(?<!employee )(?<!staff )\bID\b|identity|identification|"
                     r"passport|\bsocial\b|\bSSN\b|national\s+insurance|driver'?s\s+licen[cs]e|身份证|护照|证件号",
                     re.IGNORECASE),
    "staff": re.compile(r"\b(?:my|agent|operator|staff|employee)\s+(?:agent\s+|operator\s+|staff\s+|employee\s+)?"
                        r"(?:number|no\b|id\b)|工号", re.IGNORECASE),
    "zip": re.compile(r"\bzip\b|postal|post\s*code|postcode|邮编|邮政编码", re.IGNORECASE),
    "account": re.compile(r"account|member(?:ship)?|rewards?|loyalty|customer\s+(?:number|no|id)|policy|"
                          r"meter\s+(?:number|id|serial)|card(?=\s*(?:number|no\b|#))|"
                          r"(?:hospital|patient|nhs|student|employee|staff|badge|passenger|loan|contract|"
                          rf"application|registration|licen[cs]e\s+plate|vehicle){_ASKED}|"
                          rf"(?:order|reference|tracking|case|ticket|claim|confirmation|invoice|booking|serial|flyer|flier){_ASKED}|"
                          r"订单|会员|保单|账户|账号|客户号|快递单|运单|工单|单号|编号|卡号|户号|学号|工号|病历号|住院号|就诊卡|"
                          r"医保卡|合同号|车牌|学籍", re.IGNORECASE),
    "phone": re.compile(r"phone|\bcell\b|mobile|call\s*back|callback|reach\s+you|\bcall\b|\bdial|extension|\bline\b|"
                        r"电话|手机|座机|分机|联系方式|回电|打(?:我|这个|到|给我)|办公室", re.IGNORECASE),
}
# Said of a phone, whatever else the sentence names ("the phone number on my account").
_PHONE_NUMBER = re.compile(r"(?:phone|cell|mobile|contact|callback|home|work)\s+number|area\s+code|"
                           r"电话号码|手机号|联系电话|区号",
                           re.IGNORECASE)
_NAMES_NUMBER = re.compile(r"(?:\s+security)?\s*(?:number|no\b|#|code|id\b|号码?)", re.IGNORECASE)
_NUMBER_WORD = re.compile(r"\bnumber\b|号码", re.IGNORECASE)
_CURRENCY = re.compile(r"[$¥￥€£]\s*$|(?:^\s*(?:元|块|毛|美元|dollars?|bucks|yuan|rmb|percent|%|pounds?|euros?))",
                       re.IGNORECASE)

# Where a date is a verification answer: a date of birth, or an answer to a security question.
_BIRTH_CONTEXT = re.compile(r"born|birth|birthday|\bd\.?o\.?b\b|security\s+question|出生|生日|生辰|[年月日号]生的?|"
                            r"安全问题|(?:哪天|哪一天|哪年|什么时候|何时)[^，。？?]{0,4}(?:开(?:的)?户|办的卡)|开户(?:日期|时间)|"
                            r"when\s+(?:did\s+you|was\s+the\s+account)\s+open|account\s+open(?:ed|ing)\s+date|"
                            r"为了(?:您的)?(?:账户)?安全|安全(?:起见|验证)|核实(?:一下)?(?:您的)?身份|身份(?:核实|验证)",
                            re.IGNORECASE)
_CURRENCY = re.compile(r"[$¥￥€£]\s*$|(?:^\s*(?:元|块|毛|美元|dollars?|bucks|yuan|rmb|percent|%|pounds?|euros?))",
                       re.IGNORECASE)

# Written emails, spoken English ones ("john dot smith at gmail dot com") and Chinese ones ("艾特", "点").
_TLD = r"(?:com|net|org|edu|gov|cn|co|uk|io|info|biz|us|de|jp|hk|tw|me|cc)"
_EMAIL_WRITTEN = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+")
_SPOKEN_SEP = r"(?:\s*(?:dot|点|underscore|下划线|dash|hyphen|[._\-])\s*)"
# The domain of a spoken address: "at" (艾特, @), up to three words, "dot com" ("at northwind traders dot com").
_EMAIL_DOMAIN = re.compile(
    rf"\s*(?:\bat\b|艾特|爱特|@|圈a)\s*(?:[A-Za-z0-9]+\s+){{0,2}}[A-Za-z0-9]+(?:{_SPOKEN_SEP}[A-Za-z0-9]+)*?{_SPOKEN_SEP}{_TLD}\b",
    re.IGNORECASE)
# An address begun at the end of a turn and finished in the next ("the email is jenny" … "dot wu at icloud …").
_EMAIL_BEGUN = re.compile(
    r"(?:e-?mail(?:\s+address)?(?:\s+is|'s)?|邮箱(?:地址)?(?:是)?)\s*(?P<local>(?:[A-Za-z0-9._\s]|点){1,40}?)[\s,.，。]*$",
    re.IGNORECASE)
# Local parts that name a mailbox, not a person.
_MAILBOX_WORDS = frozenset(re.findall(r"\w+", """info support sales admin contact service services help office
    mail email hello team billing accounts account noreply reply enquiries enquiry customer customers orders order
    jobs careers press news newsletter webmaster postmaster student students staff"""))
# Words that open what is said before an address's "at": the local part starts after them.
_EMAIL_STOP = re.compile(r"is|it's|its|email|e-mail|address|to|my|me|send|the|and|yes|yeah|sure|okay|ok|uh|um|"
                         r"是|邮箱|发到|地址|到|的|就|嗯|对", re.IGNORECASE)

_NUM_WORD = r"(?i:\d+|zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|" \
            r"sixty|seventy|eighty|ninety|hundred)"
_STREET = r"(?i:street|st|road|rd|avenue|ave|lane|ln|drive|dr|boulevard|blvd|way|court|ct|place|pl|terrace|circle|" \
          r"parkway|pkwy|highway|hwy|crescent|close|square)"
_US_STATE = (r"(?i:alabama|alaska|arizona|arkansas|california|colorado|connecticut|delaware|florida|georgia|hawaii|"
             r"idaho|illinois|indiana|iowa|kansas|kentucky|louisiana|maine|maryland|massachusetts|michigan|minnesota|"
             r"mississippi|missouri|montana|nebraska|nevada|new\s+hampshire|new\s+jersey|new\s+mexico|new\s+york|"
             r"north\s+carolina|north\s+dakota|ohio|oklahoma|oregon|pennsylvania|rhode\s+island|south\s+carolina|"
             r"south\s+dakota|tennessee|texas|utah|vermont|virginia|washington|west\s+virginia|wisconsin|wyoming)")
_UK_POSTCODE = r"[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}"
_DIGIT_WORD = r"(?:zero|oh|one|two|three|four|five|six|seven|eight|nine)"
_DIGIT_WORDS5 = rf"(?i:{_DIGIT_WORD}(?:\s+{_DIGIT_WORD}){{4}})\b"  # a ZIP code in words: "four three two one five"
# A UK National Insurance number: two letters, six digits, a letter ("JT 48 27 19 C"), as written or spelled.
_NI_NUMBER = re.compile(r"\b[A-CEGHJ-PR-TW-Z]\s?[A-CEGHJ-NPR-TW-Z]\s?(?:\d\s?){6}[A-D]\b", re.IGNORECASE)
_ADDRESS_EN = re.compile(
    rf"(?:\b{_NUM_WORD}(?:[\s-]+{_NUM_WORD})*\s+(?!(?i:way)\s)(?:[A-Za-z0-9][\w'.]*\s+){{1,3}}{_STREET}\b\.?"
    r"|\b(?i:p\.?\s?o\.?\s+box)\s+\d+)"
    r"(?:,?\s*(?i:apartment|apt|suite|unit|flat|room|#)\.?\s*(?i:number\s+)?[\w-]+(?:\s[a-zA-Z]\b)?)?"
    rf"(?:,?\s+(?:[A-Za-z]+,?\s+){{0,2}}(?i:{_UK_POSTCODE})\b)?"  # a town and postcode, as written in lower case
    rf"(?:,?\s+[A-Z][a-z]+(?:,?\s+[A-Z][a-z]+){{0,2}}(?=,?\s+(?:[A-Z]{{2}}\b|\d{{5}}|{_UK_POSTCODE})))?"
    r"(?:,?\s+[A-Z]{2}\b)?"
    r"(?:(?:,?\s+[a-z]+){1,3}(?=,?\s+\d{5}\b))?"  # a city and state in lower case, known by the zip after them
    rf"(?:,?\s+[A-Za-z]+(?:\s+[A-Za-z]+)?,?\s+{_US_STATE}\b)?"  # "…, Dayton, Ohio"
    rf"(?:,?\s*(?:\d{{5}}(?:-\d{{4}})?|{_UK_POSTCODE}|{_DIGIT_WORDS5}))?")
_POSTCODE_UK = re.compile(rf"\b{_UK_POSTCODE}\b")
_ZH_NUM = "0-9零〇一二三四五六七八九十百幺两"
_ZH_PLACE = r"[^\s，。,.!?？！；;：:、在是到住我家的您你他她址和跟给寄送过去来哪什么几吗呢吧要诉说问找想让被把对]"
_ZH_UNIT = rf"(?:[{_ZH_NUM}A-Za-z\-]+(?:号院|院|号楼|栋|幢|座|单元|楼|层|室|号|户))"
_ADDRESS_ZH = re.compile(
    rf"(?:{_ZH_PLACE}{{2,7}}?(?:省|自治区))?(?:{_ZH_PLACE}{{2,7}}?市)?(?:{_ZH_PLACE}{{1,7}}?(?:区|县))?"
    rf"(?:{_ZH_PLACE}{{1,8}}?(?:镇|乡|街道|村))?"
    rf"(?:{_ZH_PLACE}{{1,10}}?(?:路|街|大道|大街|巷|弄|胡同)(?:[{_ZH_NUM}]+段)?(?:\s?(?:嗯|呃|那个)\s?)?[{_ZH_NUM}]+(?:号院|号|弄)"
    rf"|{_ZH_PLACE}{{2,8}}?(?:小区|花园|公寓|大厦|新村|家园|苑|园(?=[{_ZH_NUM}]+区|[{_ZH_NUM}]+号)))"
    rf"(?:(?:[，,]?\s?(?:嗯|呃|那个)?\s?{_ZH_PLACE}{{2,6}}?(?=\s?[{_ZH_NUM}]+(?:栋|幢|座|号楼|楼|层)))?[，,]?\s?{_ZH_UNIT})*"
    rf"(?:\s?[0-9零〇一二三四五六七八九幺]{{3,4}}(?![0-9零〇一二三四五六七八九幺]))?"
    # a city and district with the road, the number said later ("成都市锦江区春熙路")
    rf"|{_ZH_PLACE}{{2,7}}?市{_ZH_PLACE}{{1,7}}?(?:区|县){_ZH_PLACE}{{1,10}}?(?:路|街|大道|大街|巷)"
    # the number, building and flat said on their own ("27号 2栋 1803")
    rf"|(?<![{_ZH_NUM}])(?:[{_ZH_NUM}]+号(?!\s?[{_ZH_NUM}]+号)(?:\s?{_ZH_UNIT})+|[{_ZH_NUM}A-Za-z]+(?:号楼|栋|幢|座|号院)(?:\s?{_ZH_UNIT})+)"
    rf"(?:\s?[0-9零〇一二三四五六七八九幺]{{3,4}})?")
# Asking where: "what's the address", "where should we mail it", "送到哪里", "具体几号楼", "postcode?".
_ASKS_ADDRESS = re.compile(
    r"address|where\s+(?:should|shall|do|are|is|to)|where's\s+(?:this|it)|post\s*code|postcode|zip|town|city|"
    r"地址|送到哪|寄到哪|住哪|住在哪|哪个小区|几号楼|几栋|几单元|门牌|房号|房间号|楼号|哪里|邮编|城市|哪个(?:省|市|区|县)",
    re.IGNORECASE)
# Asking only for the town: the short reply is the place ("哪个城市？" … "武汉", "which city?" … "Boise").
_ASKS_TOWN = re.compile(r"\b(?:city|town)\b|城市|哪个(?:省|市|区|县)", re.IGNORECASE)
# What opens an answer before the address itself ("uh it's …", "嗯 就是 …").
_ANSWER_OPENING = re.compile(
    r"\W*(?:(?:uh|um|it's|its|it\s+is|to|at|yes|yeah|okay|so|嗯|呃|就是|是|在|到|寄到|送到)\W+)*", re.IGNORECASE)
# Where an answered address ends: a clause break, or the next thing given (a phone, an email, a name).
_ADDRESS_END = re.compile(r"[，。;；!?！？]|\s(?:and\s+)?(?:my\s+)?(?:phone|number|email|name|cell|mobile)\b|"
                          r"\s?(?:电话|手机|邮箱|名字|姓名|联系人|收件人)", re.IGNORECASE)
# A UK postcode said letter by letter, as recognisers write it in lower case ("l s 6 2 a b", "m 20 5 p g").
_POSTCODE_SPOKEN = re.compile(r"\b[a-z](?:\s?[a-z])?\s?\d(?:\s?[a-z\d])?\s+\d\s?[a-z]\s?[a-z]\b", re.IGNORECASE)
_ADDRESS_LEAD_ZH = re.compile(r"(?:地址|住址|住在|家住|寄到|送到|收货地址|家在)(?:是|在|为)?[:：]?\s*")
_ZH_ADMIN = re.compile(r"[省市区县镇乡村路街巷弄栋幢室]")

_MONTH = r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|" \
         r"oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
_ORD_WORD = r"(?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth|thirteenth|" \
            r"fourteenth|fifteenth|sixteenth|seventeenth|eighteenth|nineteenth|twentieth|thirtieth|" \
            r"twenty[\s-](?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth)|thirty[\s-]first)"
_CARD_DAY = r"(?:(?:twenty|thirty)[\s-](?:one|two|three|four|five|six|seven|eight|nine)|one|two|three|four|five|" \
            r"six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|" \
            r"twenty|thirty)"
_DAY = rf"(?:\d{{1,2}}(?:st|nd|rd|th)?|{_ORD_WORD}|{_CARD_DAY})"
_YEAR_WORDS = r"(?:(?:nineteen|twenty|two\s+thousand(?:\s+and)?)(?:[\s-]+(?:\w+)){0,2}" \
              r"|(?:fifty|sixty|seventy|eighty|ninety)(?:[\s-]+(?:one|two|three|four|five|six|seven|eight|nine))?" \
              r"|oh[\s-]+(?:one|two|three|four|five|six|seven|eight|nine))"
_DATE_EN = re.compile(
    rf"\b(?:{_MONTH}\.?\s+(?:the\s+)?{_DAY}|(?:the\s+)?{_DAY}\s+(?:of\s+)?{_MONTH})(?:,?\s+(?:\d{{4}}|{_YEAR_WORDS}))?\b"
    rf"|\b\d{{1,2}}[/.\-]\d{{1,2}}[/.\-]\d{{2,4}}\b|\b\d{{4}}[/.\-]\d{{1,2}}[/.\-]\d{{1,2}}\b"
    rf"|(?<=born in )(?:\d{{4}}|{_YEAR_WORDS})|\b{_MONTH}\.?,?\s+(?:\d{{4}}|{_YEAR_WORDS})\b",
    re.IGNORECASE)
_DATE_ZH = re.compile(rf"(?:[0-9零〇一二三四五六七八九]{{2,4}}年)?[{_ZH_NUM}]{{1,3}}月"
                      rf"(?:[{_ZH_NUM}]{{1,3}}(?:[日号]|(?![^\s，。,.!?？！])))?"
                      rf"|[0-9零〇一二三四五六七八九]{{2,4}}年(?:生|出生)?|\d{{4}}[/.\-]\d{{1,2}}[/.\-]\d{{1,2}}")


_D, _M, _Y = r"(?:0[1-9]|[12]\d|3[01])", r"(?:0[1-9]|1[0-2])", r"(?:19|20)\d{2}"
_EIGHT_DIGIT_DATE = re.compile(rf"{_Y}{_M}{_D}|{_D}{_M}{_Y}|{_M}{_D}{_Y}")


@dataclass(frozen=True, slots=True)
class _Turn:
    idx: int
    text: str
    role: Role
    speaker: str
    start: float
    end: float


def detect(utterances: Sequence[Utterance], names: Sequence[str] = ()) -> list[Finding]:
    """Every span of personal data in the utterances, sorted, overlaps merged (the wider kind wins).

    Args:
        utterances: one call's utterances in time order.
        names: names known from the call's metadata (the customer's), found wherever they are said.
    """
    turns = [_Turn(i, u.text, u.role, u.speaker, u.start, u.end) for i, u in enumerate(utterances)]
    found: list[Finding] = []
    for t in turns:
        before = _context_before(turns, t.idx)
        found += _emails(turns, t)
        found += _addresses(t, before)
        found += _dates(t, before)
        found += [Finding(t.idx, m.start(), m.end(), PiiKind.ID, "uk-national-insurance", 0.9)
                  for m in _NI_NUMBER.finditer(t.text)]
    found += _address_continued(turns, found)
    found += _numbers(turns, taken=found)
    # the words of a written address's local part are often the person's names ("lindiwe.mbeki@…" … "lindiwe")
    in_emails = [w for f in found if f.detector == "email"
                 for w in re.split(r"[._\-+\d]+", turns[f.utterance].text[f.start:f.end].split("@")[0])
                 if len(w) >= 3 and w.isalpha() and w.lower() not in _MAILBOX_WORDS]
    found += name_findings([(t.text, t.role is Role.AGENT) for t in turns], [*names, *in_emails],
                           lambda i, s, e, det, conf: Finding(i, s, e, PiiKind.NAME, det, conf))
    return _merge(found, [t.text for t in turns])


def _context_before(turns: Sequence[_Turn], idx: int) -> list[str]:
    """What a number or date may be introduced by besides the utterance's own lead-in: the last three turns,
    nearest first (the agent's question, the speaker's own "my number is …")."""
    return [t.text for t in reversed(turns[max(0, idx - 3): idx])]


def _numbers(turns: Sequence[_Turn], taken: Sequence[Finding]) -> list[Finding]:
    """Digit runs typed as phone / ID / card / number, joining a number said over consecutive turns of one speaker."""
    runs = {t.idx: [r for r in digit_runs(t.text) if not _inside(t.idx, r, taken)] for t in turns}
    out: list[Finding] = []
    used: set[tuple[int, int]] = set()
    for t in turns:
        context = _context_before(turns, t.idx)
        for run in runs[t.idx]:
            if (t.idx, run.start) in used:
                continue
            lead = t.text[: run.start]
            kind, confidence, detector = _classify(run, lead, context)
            parts = [(t.idx, run)]
            more = _continuation(turns, runs, t) if run is trailing_run(t.text, runs[t.idx]) and confidence < 0.9 \
                else []
            if more:
                whole = "".join(r.digits for _, r in [*parts, *more])
                merged = _classify(replace(run, digits=whole), lead, context)
                if merged[0] is not None:
                    kind, confidence, detector = merged[0], merged[1], merged[2] + "+split"
                    parts += more
            if confidence < 0.9 and run.tail is not None and len(parts) == 1:
                # "the same one, 5220 6176 6468 7328": the written digits alone may be the number
                tail = _classify(run.tail, t.text[: run.tail.start], context)
                if tail[1] >= 0.9:
                    kind, confidence, detector = tail
                    parts = [(t.idx, run.tail)]
            if kind is None:
                continue
            for idx, r in parts:
                used.add((idx, r.start))
                out.append(Finding(idx, r.start, r.end, kind, detector, confidence))
    return out + _number_recurrences(turns, runs, used, out)


def _number_recurrences(turns: Sequence[_Turn], runs: dict[int, list[DigitRun]], used: set[tuple[int, int]],
                        found: Sequence[Finding]) -> list[Finding]:
    """A number found once, said again elsewhere in the call without a cue (misheard "卡为号3306" beside "尾号3306"),
    or its last digits read back: hidden there too, as the kind it was found as."""
    said: dict[str, PiiKind] = {}
    for f in found:
        for r in runs[f.utterance]:
            if r.start == f.start:
                said.setdefault(r.digits, f.kind)
    out = []
    for t in turns:
        for r in runs[t.idx]:
            if (t.idx, r.start) in used or len(r.digits) < 4:
                continue
            kind = said.get(r.digits) or next((k for d, k in said.items() if d.endswith(r.digits)), None)
            if kind is not None:
                out.append(Finding(t.idx, r.start, r.end, kind, "number-recurrence", 0.8))
    return out


def _continuation(turns: Sequence[_Turn], runs: dict[int, list[DigitRun]], t: _Turn) -> list[tuple[int, DigitRun]]:
    """The rest of a number the speaker of ``t`` goes on with in their next turns (the other party may say
    "mm-hm" between, nothing with digits), each part opening its turn."""
    parts: list[tuple[int, DigitRun]] = []
    last = t
    for nxt in turns[t.idx + 1:]:
        if nxt.start - last.end > 15.0:
            break
        if nxt.speaker != t.speaker or nxt.role != t.role:
            if not _BACKCHANNEL.fullmatch(nxt.text):
                break  # a question or anything else said between ends the number
            continue
        lead = leading_run(nxt.text, runs[nxt.idx])
        if lead is None:
            break
        parts.append((nxt.idx, lead))
        if lead is not trailing_run(nxt.text, runs[nxt.idx]):
            break
        last = nxt
    return parts


# What the other party may say while a number is read out without interrupting it.
_BACKCHANNEL = re.compile(r"\W*(?:(?:m+[\s-]*h?m+|uh[\s-]*huh|mhm|yeah|yep|yes|okay|ok|right|sure|go\s+on|got\s+it|"
                          r"go\s+ahead|continue|carry\s+on|keep\s+going|and|then|and\s+the\s+rest|"
                          r"嗯+|好的?|对|是的?|您说|你说|请说|继续|然后呢?|接着说|还有呢?)[\s,.!，。！…]*)+",
                          re.IGNORECASE)


def _cue(segments: Sequence[str]) -> str | None:
    """The kind of number the nearest segment that names one asks for (segments nearest first, see ``_CUES``).

    Within one segment a secret wins (a code is named with where it was sent: "a six digit code to your phone").
    Then, in the speaker's own lead-in, the cue said last ("the phone number on my account is out of date.
    Account number four oh nine …"); in a question an explicit "phone number", else the first cue, which names
    what is asked ("the zip code on the account", "the social to pull up the claim"), preferring one that is
    followed by "number" or "code" or names a number itself ("to open the account I'll need your SSN"). A bare
    "number" is a phone.
    """
    for nearest, segment in enumerate(segments):
        if _CUES["secret"].search(segment):
            return "secret"
        phone_number = [(m.start(), "phone", True) for m in _PHONE_NUMBER.finditer(segment)]
        if phone_number and nearest > 0:
            return "phone"
        found = phone_number + [(m.start(), name, bool(_NAMES_NUMBER.match(segment, m.end()) or name == "id"))
                                for name, cue in _CUES.items() for m in cue.finditer(segment)]
        if found and nearest > 0:
            # a "number" no cue word names is asked for as a phone: "what's the number on the account"
            named_ends = {m.end() for cue in _CUES.values() for m in cue.finditer(segment)}
            found += [(m.start(), "phone", True) for m in _NUMBER_WORD.finditer(segment)
                      if not any(0 <= m.start() - e <= 9 for e in named_ends)]
        if found:
            if nearest == 0:
                return max(found)[1]
            named = [f for f in found if f[2]]  # "your social security number", "the zip code on the account"
            return min(named or found)[1]
        if _NUMBER_WORD.search(segment):
            return "phone"
    return None


def _classify(run: DigitRun, lead: str, context: Sequence[str]) -> tuple[PiiKind | None, float, str]:
    """What a digit run is: (kind, confidence, detector), or (None, 0, "") for an amount, a year, a short count.

    Checksums decide first (ID, card); then what the number was introduced as; then its shape as a phone number.
    """
    d, n = run.digits, len(run.digits)
    if run.grouped and n < 11:
        return None, 0.0, ""
    if n == 18 and _resident_id(d):
        return PiiKind.ID, 0.99, "cn-resident-id"
    if d.endswith("X") and n >= 15:
        return PiiKind.ID, 0.7, "cn-resident-id-shape"
    if 13 <= n <= 19 and luhn.is_valid(d):
        return PiiKind.CARD, 0.97, "luhn"
    if re.fullmatch(r"\d{3}([-\s])\d{2}\1\d{4}", run.said):
        return PiiKind.ID, 0.85, "ssn-shape"  # a US social security number as written
    cue = _cue([lead, *context])
    near = _cue([lead, *context[:1]])
    if cue == "staff" and n < 7:
        return None, 0.0, ""  # "quote my agent number, 40217": the agent's, in the metadata anyway
    if cue == "id" and n >= 6:
        return PiiKind.ID, 0.85, "id-context"
    if cue == "zip" and 5 <= n <= 6:
        return PiiKind.ADDRESS, 0.8, "postal-code"
    if cue == "account" and n >= 5:
        return PiiKind.NUMBER, 0.8, "account-number"
    phone, how = _phone(d, run.plus)
    if phone:
        return PiiKind.PHONE, phone, how
    if _CURRENCY.search(lead[-3:]) and n < 9:
        return None, 0.0, ""
    if n >= 7:
        if cue == "phone" and n <= 12:
            return PiiKind.PHONE, 0.8, "phone-context"
        return PiiKind.NUMBER, 0.6, "long-number"
    if n >= 5 and near == "phone":  # part of a number read out ("their number is 888-333 …")
        return PiiKind.PHONE, 0.7, "phone-context"
    if n >= 3 and near == "secret" and not re.fullmatch(r"(?:19|20)\d{2}", d):
        return PiiKind.NUMBER, 0.75, "verification"
    return None, 0.0, ""


def _resident_id(d: str) -> bool:
    """A Chinese resident ID: its GB 11643 check character and a real birth date (any region code: python-stdnum's
    list of regions misses some in use)."""
    try:
        ric.get_birth_date(d)
    except ValueError:
        return False
    return bool(ric.calc_check_digit(d) == d[17])  # it takes the whole number and ignores the last character


def _phone(d: str, plus: bool) -> tuple[float, str]:
    """How sure it is that the digits are a phone number (0 when they are not one), and what says so."""
    if len(d) < 7 or not d.isdigit():
        return 0.0, ""
    if len(d) == 11 and re.fullmatch(r"1[3-9]\d{9}", d):
        return 0.98, "cn-mobile"
    candidates: list[tuple[str, str | None]] = [("+" + d, None)] if plus or d.startswith("00") else []
    candidates += [(d, "CN"), (d, "US"), (d, "GB")]
    for text, region in candidates:
        text = "+" + text[2:] if text.startswith("00") else text
        try:
            number = phonenumbers.parse(text, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return (0.95 if len(d) >= 10 else 0.85), "phonenumbers"
    return 0.0, ""


def _inside(idx: int, run: DigitRun, taken: Sequence[Finding]) -> bool:
    return any(f.utterance == idx and f.start <= run.start and run.end <= f.end for f in taken)


def _emails(turns: Sequence[_Turn], t: _Turn) -> list[Finding]:
    out = [Finding(t.idx, m.start(), m.end(), PiiKind.EMAIL, "email", 0.99) for m in _EMAIL_WRITTEN.finditer(t.text)]
    for m in _EMAIL_DOMAIN.finditer(t.text):
        # The local part: the words before "at", back to a word that opens the answer ("it's", "邮箱是") or a
        # pause; spoken letters, digits and "underscore"/"dot" all belong to it ("t h o m a s one nine").
        start = m.start()
        stopped = False
        for w in reversed(list(re.finditer(r"[A-Za-z0-9']+|[\u4e00-\u9fff]+|[,，:：;。]", t.text[: m.start()]))):
            if _ends_local_part(w.group(0)) or m.start() - w.start() > 60:
                stopped = True
                break
            start = w.start()
        if start < m.start() or not stopped:
            out.append(Finding(t.idx, start, m.end(), PiiKind.EMAIL, "spoken-email", 0.9))
        if not stopped:
            out += _email_begun_before(turns, t)
    return out


def _email_begun_before(turns: Sequence[_Turn], t: _Turn) -> list[Finding]:
    """The start of an address said in the speaker's previous turn ("the email is jenny" … "dot wu at …")."""
    for prev in reversed(turns[max(0, t.idx - 3): t.idx]):
        if prev.speaker == t.speaker:
            m = _EMAIL_BEGUN.search(prev.text)
            # "what's the best email for the enrolment pack" names no address
            if m and m.group("local").strip() and not re.search(r"\b(?:for|the|to|on|of|and|is|a|an|please)\b",
                                                                 m.group("local"), re.IGNORECASE):
                return [Finding(prev.idx, m.start("local"), m.end("local"), PiiKind.EMAIL, "spoken-email+split", 0.8)]
            # letters spelled on their own after "can you spell your email?" ("l i u" … "m i n g 八八 at qq 点 com")
            spelled = re.fullmatch(r"\W*(?:(?:yeah|yes|it's|its|it\s+is|sure|okay|ok|so|嗯|是|好的?)\W+)*"
                                   r"(?P<local>[A-Za-z0-9](?:[\s._-]*[A-Za-z0-9]){0,29})\W*", prev.text, re.IGNORECASE)
            spelled = spelled if spelled and re.search(r"[A-Za-z]", spelled.group("local")) else None
            asked = any(re.search(r"e-?mail|邮箱", q.text, re.IGNORECASE)
                        for q in turns[max(0, prev.idx - 2): prev.idx])
            if spelled and asked:
                return [Finding(prev.idx, spelled.start("local"), spelled.end("local"), PiiKind.EMAIL,
                                "spoken-email+split", 0.75)]
            return []
    return []


def _ends_local_part(token: str) -> bool:
    """A pause, an opening word, or Chinese words other than the spoken dot or underscore (or a hesitation)."""
    if re.fullmatch(r"[,，:：;。]", token) or (_EMAIL_STOP.fullmatch(token) and token not in ("嗯", "呃")):
        return True
    if token in ("嗯", "呃", "额"):
        return False
    return bool(re.search(r"[\u4e00-\u9fff]", token)) and token not in ("点", "下划线") \
        and not re.fullmatch(r"[零〇一二三四五六七八九幺两]+", token)


def _addresses(t: _Turn, before: Sequence[str]) -> list[Finding]:
    out = _address_answer(t, before)
    out += [Finding(t.idx, m.start(), m.end(), PiiKind.ADDRESS, "street-address", 0.85)
           for m in _ADDRESS_EN.finditer(t.text)]
    out += [Finding(t.idx, m.start(), m.end(), PiiKind.ADDRESS, "postcode", 0.8) for m in _POSTCODE_UK.finditer(t.text)]
    for m in _ADDRESS_ZH.finditer(t.text):
        if m.end() > m.start():
            out.append(Finding(t.idx, m.start(), m.end(), PiiKind.ADDRESS, "zh-address", 0.85))
    # "地址是…" / "住在…": the rest of the clause, when it names at least two places (省, 市, 路, 栋 …).
    for m in re.finditer(r"[^，。,.!?？！；;\s]+", t.text):
        head = _ADDRESS_LEAD_ZH.search(m.group(0))
        if head and len(_ZH_ADMIN.findall(m.group(0)[head.end():])) >= 2:
            out.append(Finding(t.idx, m.start() + head.end(), m.end(), PiiKind.ADDRESS, "zh-address-lead", 0.75))
    return out


def _address_answer(t: _Turn, before: Sequence[str]) -> list[Finding]:
    """The reply to "what's the address?" / "送到哪里?": from the first place word or number to the end of the
    clause, when it holds a place (a street, a number, a district, a building …); a postcode when one was asked."""
    if not before or not _ASKS_ADDRESS.search(before[0]):
        return []
    out = []
    if _CUES["zip"].search(before[0]):
        for m in _POSTCODE_SPOKEN.finditer(t.text):
            out.append(Finding(t.idx, m.start(), m.end(), PiiKind.ADDRESS, "postcode-answer", 0.8))
    town = re.fullmatch(r"\W*(?:(?:uh|um|it's|its|in|嗯|呃|是|在)\W+)*(?P<town>[A-Z][a-z]+(?:[\s-][A-Z][a-z]+)?|"
                        r"[\u4e00-\u9fff]{2,6}?)(?:市|省)?[\s.。!！]*", t.text)
    if town and _ASKS_TOWN.search(before[0]) and not common_word(town.group("town")) \
            and not re.search(r"[不没知道的了吗呢吧啊是我你您他她这那还]", town.group("town")):
        out.append(Finding(t.idx, town.start("town"), town.end("town"), PiiKind.ADDRESS, "town-answer", 0.7))
    return out + _address_clause(t, "address-answer")


def _address_clause(t: _Turn, detector: str) -> list[Finding]:
    """The place that opens ``t`` (after "uh, it's …"), to the end of its clause, when it holds one."""
    head = _ANSWER_OPENING.match(t.text)
    start = head.end() if head else 0
    stop = _ADDRESS_END.search(t.text, start)
    end = len(t.text[: stop.start() if stop else len(t.text)].rstrip(" .,!?。，！？吧啊呀哈"))
    body = t.text[start:end]
    if body and (_ZH_ADMIN.search(body) or re.search(r"号|单元|楼", body) or _POSTCODE_UK.search(body)
                 or re.search(rf"\b{_US_STATE}\b,?\s+\d{{5}}\b", body) or (
            re.search(r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine)\b", body, re.IGNORECASE)
            and re.search(rf"\b{_STREET}\b|\b(?:box|apartment|apt|unit|flat)\b", body, re.IGNORECASE))):
        return [Finding(t.idx, start, end, PiiKind.ADDRESS, detector, 0.75)]
    return []


def _address_continued(turns: Sequence[_Turn], found: Sequence[Finding]) -> list[Finding]:
    """The rest of an address a speaker goes on with in their next turn, the other party saying "mm-hm" between
    ("27 Orchard Way," … "Norwich, NR4 7TJ"; "我家在北京市朝阳区" … "望京西园三区312号楼")."""
    out = []
    for f in found:
        t = turns[f.utterance]
        if f.kind is not PiiKind.ADDRESS or t.text[f.end:].strip(" ,，.。、…-"):
            continue
        for nxt in turns[t.idx + 1: t.idx + 4]:
            if nxt.speaker == t.speaker and nxt.role == t.role:
                out += _address_clause(nxt, "address+split")
                break
            if not _BACKCHANNEL.fullmatch(nxt.text):
                break
    return out


def _dates(t: _Turn, before: Sequence[str]) -> list[Finding]:
    """Dates of birth (a verification answer): dates said where the turn or the question before is about birth.
    Appointment, delivery and purchase dates are left alone."""
    if not (_BIRTH_CONTEXT.search(t.text) or any(_BIRTH_CONTEXT.search(b) for b in before)):
        return []
    out = [Finding(t.idx, m.start(), m.end(), PiiKind.DATE, "birth-date", 0.85) for m in _DATE_EN.finditer(t.text)]
    out += [Finding(t.idx, m.start(), m.end(), PiiKind.DATE, "birth-date", 0.85) for m in _DATE_ZH.finditer(t.text)]
    # The year asked for on its own ("and the year?" … "ninety one").
    bare = re.fullmatch(rf"\W*(?:it's|it\s+was|uh|um|\s)*(?P<y>\d{{2,4}}|{_YEAR_WORDS})\W*", t.text, re.IGNORECASE)
    if bare and before and re.search(r"\byear\b|哪一?年|年份", before[0], re.IGNORECASE):
        out.append(Finding(t.idx, bare.start("y"), bare.end("y"), PiiKind.DATE, "birth-year", 0.8))
    # Eight digits said as a date of birth (19900503, 05031990), or the year alone ("nineteen eighty").
    for run in digit_runs(t.text):
        d = run.digits
        alone = not out and len(d) == 4 and re.fullmatch(r"19\d{2}|20[0-2]\d", d) is not None \
            and not re.match(r"\s*(?:款|型|版|model|edition)", t.text[run.end:], re.IGNORECASE)
        if alone or (len(d) == 8 and _EIGHT_DIGIT_DATE.fullmatch(d)):
            out.append(Finding(t.idx, run.start, run.end, PiiKind.DATE, "birth-date", 0.8))
    return out


def _merge(found: Sequence[Finding], texts: Sequence[str]) -> list[Finding]:
    """Findings made disjoint: each character goes to the covering finding of the kind a reader most needs hidden
    (then the surest), and runs of characters won by one kind, or by one kind with only spaces between ("maria
    lopez" found word by word), become one span ("地址是…号，邮箱是 …" stays an address and an email)."""
    out: list[Finding] = []
    by_utterance: dict[int, list[Finding]] = {}
    for f in found:
        if f.end > f.start:
            by_utterance.setdefault(f.utterance, []).append(f)
    for idx in sorted(by_utterance):
        fs = by_utterance[idx]
        end = max(f.end for f in fs)
        owner: list[Finding | None] = [None] * end
        for f in sorted(fs, key=lambda f: (KIND_PRIORITY[f.kind], f.confidence)):
            owner[f.start: f.end] = [f] * (f.end - f.start)
        runs: list[tuple[int, int, Finding]] = []
        pos = 0
        while pos < end:
            won = owner[pos]
            stop = pos + 1
            while stop < end and owner[stop] is won:
                stop += 1
            if won is not None:
                text_between = texts[idx][runs[-1][1]: pos] if runs else "x"
                if runs and not text_between.strip() and runs[-1][2].kind == won.kind:
                    first, _, g = runs[-1]
                    runs[-1] = (first, stop, g if g.confidence >= won.confidence else won)
                else:
                    runs.append((pos, stop, won))
            pos = stop
        out += [Finding(idx, a, b, f.kind, f.detector, f.confidence) for a, b, f in runs]
    return out
