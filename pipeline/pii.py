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
from dataclasses import replace

import phonenumbers
from stdnum import luhn
from stdnum.cn import ric

from core.pii import KIND_PRIORITY, PiiKind
from core.types import Role, Utterance
from pipeline.pii_names import BACKCHANNEL, name_findings
from pipeline.pii_numbers import DigitRun, digit_runs, leading_run, trailing_run
from pipeline.pii_text import (
    ZIP_CUE,
    Finding,
    Turn,
    addresses,
    addresses_continued,
    dates,
    emails,
    names_in_emails,
    national_insurance,
)

__all__ = ["Finding", "detect"]


# What a number is, from what was said before it: the latest of these cues in the speaker's lead-in and the turns
# before wins ("can I have the account number?" … "it's 88 1204 5573" is an account number, not a phone).
# A word that names a number only when one follows it ("order number", "order 4821…", not "in order to").
_ASKED = r"(?=[\s,]*(?:(?:the|its|my)\s+)?(?:number|no\b|#|id\b|code\b)|\s*(?:is\s*)?$)"
# Codes that name a thing, not a secret sent to the customer ("the program code is cs 4021").
_THING_CODES = "zip post error fault promo discount product status voucher coupon model program course class module " \
               "item style colour color bar qr tracking flight tax country dial area"
_CUES = {
    "secret": re.compile(r"last\s+(?:four|4|five|5|six|6|three|3)|end(?:ing|s)?\s+(?:in|with)|\bending\b|\bpin\b|"
                         r"pass\s*code|security\s+code|verification\s+code|\bcvv\b|"
                         + "".join(f"(?<!{w} )" for w in _THING_CODES.split()) + r"\bcode\b|"
                         r"(?:\d|four|five|six)[\s-]*digit|后(?:四|4|六|6|三|3)位|尾号|验证码?|密码", re.IGNORECASE),
    "id": re.compile(r"(?<!member )(?<!customer )(?<!user )(?<!account )(?<!order )(?<!patient )(?<!student )"
                     r"(?<!employee )(?<!staff )\bID\b|identity|identification|"
                     r"passport|\bsocial\b|\bSSN\b|national\s+insurance|driver'?s\s+licen[cs]e|身份证|护照|证件号",
                     re.IGNORECASE),
    "staff": re.compile(r"\b(?:agent|operator|staff|employee)\s+(?:number|no\b|id\b)|工号", re.IGNORECASE),
    "zip": ZIP_CUE,
    "account": re.compile(r"account|member(?:ship)?|rewards?|loyalty|customer\s+(?:number|no|id)|policy|"
                          r"meter\s+(?:number|id|serial)|card(?=\s*(?:number|no\b|#))|"
                          r"(?:hospital|patient|nhs|student|employee|staff|badge|passenger|loan|contract|"
                          rf"application|registration|licen[cs]e\s+plate|vehicle){_ASKED}|"
                          rf"(?:order|reference|tracking|case|ticket|claim|confirmation|invoice|booking|reservation|serial|flyer|flier)"
                          rf"{_ASKED}|"
                          r"订单|会员|保单|账户|账号|客户号|快递单|运单|工单|单号|编号|卡号|户号|学号|工号|病历号|住院号|就诊卡|"
                          r"医保卡|合同号|车牌|学籍", re.IGNORECASE),
    "phone": re.compile(r"phone|\bcell\b|mobile|call\s*back|callback|reach\s+(?:you|me)|\bcall\b|\bdial|extension|"
                        r"\bline\b|\bring\s+(?:me|you|us|him|her|them|back)\b|\btext\s+(?:me|you)\b|whatsapp|"
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

def detect(utterances: Sequence[Utterance], names: Sequence[str] = ()) -> list[Finding]:
    """Every span of personal data in the utterances, sorted, overlaps merged (the wider kind wins).

    Args:
        utterances: one call's utterances in time order.
        names: names known from the call's metadata (the customer's), found wherever they are said.
    """
    turns = [Turn(i, u.text, u.role, u.speaker, u.start, u.end) for i, u in enumerate(utterances)]
    found: list[Finding] = []
    for t in turns:
        before = _context_before(turns, t.idx)
        found += emails(turns, t)
        found += addresses(t, before)
        found += dates(t, before)
        found += national_insurance(t)
    found += addresses_continued(turns, found)
    found += _numbers(turns, taken=found)
    found += name_findings([(t.text, t.role is Role.AGENT) for t in turns], [*names, *names_in_emails(turns, found)],
                           lambda i, s, e, det, conf: Finding(i, s, e, PiiKind.NAME, det, conf))
    return _merge(found, [t.text for t in turns])


def _context_before(turns: Sequence[Turn], idx: int) -> list[str]:
    """What a number or date may be introduced by besides the utterance's own lead-in: the last three turns,
    nearest first (the agent's question, the speaker's own "my number is …")."""
    return [t.text for t in reversed(turns[max(0, idx - 3): idx])]


def _numbers(turns: Sequence[Turn], taken: Sequence[Finding]) -> list[Finding]:
    """Digit runs typed as phone / ID / card / number, joining a number said over consecutive turns of one speaker."""
    runs = {t.idx: [r for r in digit_runs(t.text) if not _inside(t.idx, r, taken)] for t in turns}
    out: list[Finding] = []
    used: set[tuple[int, int]] = set()
    for t in turns:
        context = _context_before(turns, t.idx)
        for run in runs[t.idx]:
            if (t.idx, run.start) in used:
                continue
            lead = _lead(t.text, runs[t.idx], run)
            kind, confidence, detector = _classify(run, lead, context)
            parts = [(t.idx, run)]
            more = _continuation(turns, runs, t) if run is trailing_run(t.text, runs[t.idx]) else []
            if more:
                whole = "".join(r.digits for _, r in [*parts, *more])
                merged = _classify(replace(run, digits=whole), lead, context)
                # a phone-shaped first half gives way only to a checksum over the whole ("3101041992" … "06280533")
                if merged[0] is not None and (confidence < 0.9 or merged[1] > confidence):
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
                start = _letter_prefix(turns[idx].text, r.start) if kind in (PiiKind.NUMBER, PiiKind.ID) else r.start
                out.append(Finding(idx, start, r.end, kind, detector, confidence))
    return out + _number_recurrences(turns, runs, used, out)


# Letters read before a code's digits: "P as in Paul 4 4 7 …", "L I F dash 2 0 0 …".
_LETTER_PREFIX = re.compile(r"(?:(?<![A-Za-z'])(?:[A-Za-z]|[A-Za-z]\s+(?i:as\s+in)\s+[A-Za-z]+|"
                            r"[A-Za-z]\s+for\s+[A-Z][a-z]+)(?:\s*(?:-|(?i:dash|hyphen))?\s*))+$")


def _letter_prefix(text: str, start: int) -> int:
    """Where a policy or member number begins whose digits begin at ``start``: at the letters read before them
    (one capital, or two letters or more: "is a 0412 …" keeps its "a")."""
    m = _LETTER_PREFIX.search(text[:start])
    if not m or (len(re.findall(r"(?<![A-Za-z])[A-Za-z](?![A-Za-z])", m.group(0))) < 2 and not re.search(
            r"[A-Z]|\bas\s+in\b|\bfor\b", m.group(0))):
        return start
    return m.start()


def _lead(text: str, runs: Sequence[DigitRun], run: DigitRun) -> str:
    """What introduces ``run`` in its own turn: the words since the number before it when they name a kind
    ("the last four of my social are 0296 and my zip is 60614"), else everything before it."""
    before = [r for r in runs if r.end <= run.start and len(r) >= 3]  # a number, not "last four"
    since = text[before[-1].end: run.start] if before else ""
    return since if since and _cue([since]) is not None else text[: run.start]


def _number_recurrences(turns: Sequence[Turn], runs: dict[int, list[DigitRun]], used: set[tuple[int, int]],
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


def _continuation(turns: Sequence[Turn], runs: dict[int, list[DigitRun]], t: Turn) -> list[tuple[int, DigitRun]]:
    """The rest of a number the speaker of ``t`` goes on with in their next turns (the other party may say
    "mm-hm" between, nothing with digits), each part opening its turn."""
    parts: list[tuple[int, DigitRun]] = []
    last = t
    for nxt in turns[t.idx + 1:]:
        if nxt.start - last.end > 15.0:
            break
        if nxt.speaker != t.speaker or nxt.role != t.role:
            if not BACKCHANNEL.fullmatch(nxt.text):
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


_TRUNK_REGIONS = ("AU", "NZ", "IE", "IN", "KE", "ZA", "NG", "GH", "PH", "MY", "TW", "FR", "DE")


def _phone(d: str, plus: bool) -> tuple[float, str]:
    """How sure it is that the digits are a phone number (0 when they are not one), and what says so."""
    if len(d) < 7 or not d.isdigit():
        return 0.0, ""
    if len(d) == 11 and re.fullmatch(r"1[3-9]\d{9}", d):
        return 0.98, "cn-mobile"
    candidates: list[tuple[str, str | None]] = [("+" + d, None)] if plus or d.startswith("00") else []
    candidates += [(d, "CN"), (d, "US"), (d, "GB")]
    if d.startswith("0") and len(d) >= 9:  # a national number with its trunk 0: Australian, Kenyan, Indian …
        candidates += [(d, region) for region in _TRUNK_REGIONS]
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
