"""Personal data said in words rather than digit runs: emails, addresses, dates of birth and other verification
dates, UK National Insurance numbers; and the values :mod:`pipeline.pii` shares between its detectors (a
finding, a turn, the backchannel that does not interrupt what is being read out).

Plain Python over the call's turns; :func:`pipeline.pii.detect` runs these with the number and name detectors.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from core.pii import PiiKind
from core.types import Role
from pipeline.pii_names import BACKCHANNEL, common_word
from pipeline.pii_numbers import digit_runs


@dataclass(frozen=True, slots=True)
class Finding:
    """One span of personal data: characters ``start:end`` of utterance ``utterance``'s text."""

    utterance: int
    start: int
    end: int
    kind: PiiKind
    detector: str
    confidence: float


@dataclass(frozen=True, slots=True)
class Turn:
    """An utterance as the detectors read it: its place in the call, text, who said it and when."""

    idx: int
    text: str
    role: Role
    speaker: str
    start: float
    end: float


# Naming a postcode ("zip", "post code", 邮编).
ZIP_CUE = re.compile(r"\bzip\b|postal|post\s*code|postcode|邮编|邮政编码", re.IGNORECASE)

# Where a date is a verification answer: a date of birth, or an answer to a security question.
_BIRTH_CONTEXT = re.compile(r"born|birth|birthday|\bd\.?o\.?b\b|security\s+question|出生|生日|生辰|[年月日号]生的?|"
                            r"安全问题|(?:哪天|哪一天|哪年|什么时候|何时)[^，。？?]{0,4}(?:开(?:的)?户|办的卡)|开户(?:日期|时间)|"
                            r"(?:账户|帐户|账号|这张卡)[^，。？?]{0,3}(?:哪天|哪一天|哪年|什么时候|何时)(?:开|办)|"
                            r"when\s+(?:did\s+you|was\s+the\s+account)\s+open|account\s+open(?:ed|ing)\s+date|"
                            r"为了(?:您的)?(?:账户)?安全|安全(?:起见|验证)|核实(?:一下)?(?:您的)?身份|身份(?:核实|验证)",
                            re.IGNORECASE)

# Written emails, spoken English ones ("john dot smith at gmail dot com") and Chinese ones ("艾特", "点").
_TLD = r"(?:com|net|org|edu|gov|cn|co|uk|io|info|biz|us|de|jp|hk|tw|me|cc|se|no|dk|fi|fr|it|es|nl|be|ch|at|au|ca|" \
       r"nz|ie|in|sg|my|ph|br|mx|ru|pl|pt|kr|za|ae|tr|gr|cz|il|ar|cl|vn|th|ng|ke|eu|mo|ai|app|dev|xyz|online|email)"
_EMAIL_WRITTEN = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+")
# A written "." or "_" has no space after it: "at home. It" ends a sentence.
_SPOKEN_SEP = r"(?:\s*(?:dot|点|underscore|下划线|dash|hyphen)\s*|\s*[._\-](?!\s))"
# The domain of a spoken address: "at" (艾特, @), up to three words, "dot com" ("at northwind traders dot com").
_EMAIL_DOMAIN = re.compile(
    rf"\s*(?:\bat\b|\badd\b|艾特|爱特|@|圈a)\s*(?:[A-Za-z0-9]+\s+){{0,2}}[A-Za-z0-9]+(?:{_SPOKEN_SEP}[A-Za-z0-9]+)*?{_SPOKEN_SEP}{_TLD}\b",
    re.IGNORECASE)
# An address begun at the end of a turn and finished in the next ("the email is jenny" … "dot wu at icloud …").
_EMAIL_BEGUN = re.compile(
    r"(?:e-?mail(?:\s+address)?(?:\s+is|'s)?|邮箱(?:地址)?(?:是)?)\s*"
    r"(?P<local>(?:[A-Za-z0-9._\s]|点|[零〇一二三四五六七八九幺两]){1,40}?)[\s,.，。]*$",
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
          r"parkway|pkwy|highway|hwy|crescent|close|square|parade|grove|row|mews|walk|esplanade|rise|gardens)"
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
    # "unit 4, 22 Kingsford Parade": a flat said before the house number
    r"(?:\b(?i:unit|apartment|apt|flat|suite)\s+\w+,?\s+(?=\d))?"
    # the house number, then the street's name; not an amount ("86 dollars and that's way too high") or a place
    # beside a street ("the one on Main Street")
    rf"(?:\b{_NUM_WORD}(?:(?:[\s-]+|\s*/\s*|\s+(?i:slash)\s+){_NUM_WORD})*\s+(?!(?i:way|on|in|at|by|near|off|from|to|of|across|and|or|"
    r"dollars?|bucks|cents?|pounds?|euros?|percent|minutes?|hours?|days?|weeks?|months?|years?|times)\b)"
    rf"(?:[A-Za-z0-9][\w'.]*\s+){{1,3}}{_STREET}\b\.?"
    r"|\b(?i:p\.?\s?o\.?\s+box)\s+\d+"
    # a flat in a block or tower, as in Hong Kong: "flat 12b, block 3, laguna city"
    r"|\b(?i:flat|unit|room|apartment|apt|suite)\s+\w+,?\s+(?i:block|blk|tower|building)\s+\w+)"
    r"(?:,?\s*(?i:apartment|apt|suite|unit|flat|room|#)\.?\s*(?i:number\s+)?[\w-]+(?:\s[a-zA-Z]\b)?)?"
    rf"(?:,?\s+(?:[A-Za-z]+,?\s+){{0,2}}(?i:{_UK_POSTCODE})\b)?"  # a town and postcode, as written in lower case
    rf"(?:,?\s+[A-Z][a-z]+(?:,?\s+[A-Z][a-z]+){{0,2}}(?=,?\s+(?:[A-Z]{{2,3}}\b|\d{{5}}|{_UK_POSTCODE})))?"
    r"(?:,?\s+[A-Z]{2,3}\b(?:\s+\d{4}\b(?!\d))?)?"  # a state, and an Australian postcode after it
    r"(?:(?:,?\s+[a-z]+){1,3}(?=,?\s+\d{5}\b))?"  # a city and state in lower case, known by the zip after them
    rf"(?:,?\s+[A-Za-z]+(?:\s+[A-Za-z]+)?,?\s+{_US_STATE}\b)?"  # "…, Dayton, Ohio"
    rf"(?:,?\s*(?:\d{{5}}(?:-\d{{4}})?|{_UK_POSTCODE}|{_DIGIT_WORDS5}))?")
_POSTCODE_UK = re.compile(rf"\b{_UK_POSTCODE}\b")
# What may close an address after its street: towns, a state or province, a postcode (UK, US, Canadian, Indian;
# Australian after its state): "…road, scarborough, ontario, m1n 3j7", "…beach road, bondi", "bath, ba2 4lp".
_POSTCODE_ANY = re.compile(rf"(?i:{_UK_POSTCODE}|[a-z]\d[a-z]\s?\d[a-z]\d)\b|\d{{5}}(?:-\d{{4}})?\b|\d{{6}}\b")
_STATE = re.compile(rf"(?:{_US_STATE}|(?i:ontario|quebec|british\s+columbia|alberta|manitoba|saskatchewan|"
                    r"nova\s+scotia|new\s+brunswick|new\s+south\s+wales|victoria|queensland|tasmania)"
                    r"|(?i:nsw|vic|qld|tas|act|wa|sa|nt)(?=\s+\d{4}\b)|[A-Z]{2,3})\b(?:\s+\d{4}\b(?!\d))?")
_TOWN_WORD = re.compile(r"[A-Za-z][A-Za-z'\-]+")
_ZH_NUM = "0-9零〇一二三四五六七八九十百幺两"
_ZH_PLACE = r"[^\s，。,.!?？！；;：:、在是到住我家的您你他她址和跟给寄送过去来哪什么几吗呢吧要诉说问找想让被把对]"
_ZH_PAUSE = r"(?:[，,]?\s?(?:嗯|呃|额|那个|就是))*[，,]?\s?"  # "，嗯，" between parts of one address
_ZH_UNIT = rf"(?:[{_ZH_NUM}A-Za-z\-]+(?:号院|院|号楼|栋|幢|座|单元|楼|层|室|号|户))"
# Buildings and flats going on after a clause break: "，三栋1202", "，嗯，金鹰大厦二座".
_ZH_MORE_UNITS = re.compile(rf"[，,]{_ZH_PAUSE}(?:{_ZH_PLACE}{{0,6}}?{_ZH_UNIT})+"
                            r"(?:\s?[0-9零〇一二三四五六七八九幺]{3,4})?")
# 道 as a road ("弥敦道688号", "高新南七道"), not the 道 of 知道, 频道, 通道 …
_ROAD_DAO = r"(?<![知频味难轨渠通报说车赛跑航街大])道"
_ADDRESS_ZH = re.compile(
    rf"(?:{_ZH_PLACE}{{2,7}}?(?:省|自治区))?(?:{_ZH_PLACE}{{2,7}}?市)?(?:{_ZH_PLACE}{{1,7}}?(?:区|县))?"
    rf"(?:{_ZH_PLACE}{{1,8}}?(?:镇|乡|街道|村))?"
    rf"(?:{_ZH_PLACE}{{1,10}}?(?:路|街|大道|大街|巷|弄|胡同|{_ROAD_DAO})(?:[{_ZH_NUM}]+段)?(?:\s?(?:嗯|呃|那个)\s?)?[{_ZH_NUM}]+(?:号院|号|弄)"
    rf"|{_ZH_PLACE}{{2,8}}?(?:小区|花园|公寓|大厦|新村|家园|苑|园(?=[{_ZH_NUM}]+区|[{_ZH_NUM}]+号)))"
    rf"(?:(?:{_ZH_PAUSE}{_ZH_PLACE}{{2,6}}?(?=\s?[{_ZH_NUM}]+(?:栋|幢|座|号楼|楼|层)))?{_ZH_PAUSE}{_ZH_UNIT})*"
    rf"(?:\s?[0-9零〇一二三四五六七八九幺]{{3,4}}(?![0-9零〇一二三四五六七八九幺]))?"
    # a city and district with the road, the number said later ("成都市锦江区春熙路")
    rf"|{_ZH_PLACE}{{2,7}}?市{_ZH_PLACE}{{1,7}}?(?:区|县){_ZH_PLACE}{{1,10}}?(?:路|街|大道|大街|巷)"
    # the number, building and flat said on their own ("27号 2栋 1803")
    rf"|(?<![{_ZH_NUM}])(?:[{_ZH_NUM}]+号(?!\s?[{_ZH_NUM}]+号)(?:\s?{_ZH_UNIT})+|[{_ZH_NUM}A-Za-z]+(?:号楼|栋|幢|座|号院)(?:\s?{_ZH_UNIT})+)"
    rf"(?:\s?[0-9零〇一二三四五六七八九幺]{{3,4}})?")
# Asking where: "what's the address", "where should we mail it", "送到哪里", "具体几号楼", "postcode?".
_ASKS_ADDRESS = re.compile(
    r"address|where\s+(?:should|shall|do|are|is|to|would|will|can|did)|where's\s+(?:this|it)|post\s*code|postcode|zip|town|city|"
    r"地址|送到哪|寄到哪|住哪|住在哪|哪个小区|几号楼|几栋|几单元|门牌|房号|房间号|楼号|哪里|邮编|城市|哪个(?:省|市|区|县)",
    re.IGNORECASE)
# A turn that is itself a question: "哪个城市", "which street?".
_TURN_ASKS = re.compile(r"[?？]\s*$|哪个|哪里|哪儿|什么|多少|几[号栋楼单]|^\W*(?:which|what|where)\b", re.IGNORECASE)
# Asking for the rest of an address begun ("嗯，几号？", "and the apartment number?").
_ASKS_REST = re.compile(r"几号|多少号|哪号|\b(?:house|flat|apartment|apt|unit|suite|building|street)\b", re.IGNORECASE)
# Asking only for the town: the short reply is the place ("哪个城市？" … "武汉", "which city?" … "Boise").
_ASKS_TOWN = re.compile(r"\b(?:city|town)\b|城市|哪个(?:省|市|区|县)", re.IGNORECASE)
# What opens an answer before the address itself ("uh it's …", "嗯 就是 …").
_ANSWER_OPENING = re.compile(
    r"\W*(?:(?:uh|um|it's|its|it\s+is|to|at|yes|yeah|okay|so|(?:my|our)\s+(?:house|home|place|office)|"
    r"嗯|呃|就是|是|在|到|寄到|送到)\W+)*", re.IGNORECASE)
# Where an answered address ends: a clause break, or the next thing given (a phone, an email, a name).
_ADDRESS_END = re.compile(r"[，。;；!?！？]|\s(?:and\s+)?(?:my\s+)?(?:phone|number|email|name|cell|mobile)\b|"
                          r"\s?(?:电话|手机|邮箱|名字|姓名|联系人|收件人)", re.IGNORECASE)
# A UK postcode said letter by letter, as recognisers write it in lower case ("l s 6 2 a b", "m 20 5 p g").
_POSTCODE_SPOKEN = re.compile(r"\b[a-z](?:\s?[a-z])?\s?\d(?:\s?[a-z\d])?\s+\d\s?[a-z]\s?[a-z]\b", re.IGNORECASE)
# A town and its postcode alone ("chicago, 60622", "Maroubra NSW 2035").
_TOWN_AND_ZIP = re.compile(r"(?:[A-Za-z]+\s){0,2}[A-Za-z]+,?\s+(?:[A-Z]{2,3},?\s+)?(?:\d{5}(?:-\d{4})?|\d{4})")
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
    rf"\b(?:{_MONTH}\.?\s+(?:the\s+)?{_DAY}(?![\s-]+thousand)|(?:the\s+)?{_DAY}\s+(?:of\s+)?{_MONTH})(?:,?\s+(?:\d{{4}}|{_YEAR_WORDS}))?\b"
    rf"|\b\d{{1,2}}[/.\-]\d{{1,2}}[/.\-]\d{{2,4}}\b|\b\d{{4}}[/.\-]\d{{1,2}}[/.\-]\d{{1,2}}\b"
    rf"|(?<=born in )(?:\d{{4}}|{_YEAR_WORDS})|\b{_MONTH}\.?,?\s+(?:\d{{4}}|{_YEAR_WORDS})\b",
    re.IGNORECASE)
_DATE_ZH = re.compile(rf"(?:[0-9零〇一二三四五六七八九]{{2,4}}年)?[{_ZH_NUM}]{{1,3}}月"
                      rf"(?:[{_ZH_NUM}]{{1,3}}(?:[日号]|(?![^\s，。,.!?？！])))?"
                      rf"|[0-9零〇一二三四五六七八九]{{2,4}}年(?:生|出生)?|\d{{4}}[/.\-]\d{{1,2}}[/.\-]\d{{1,2}}")


_D, _M, _Y = r"(?:0[1-9]|[12]\d|3[01])", r"(?:0[1-9]|1[0-2])", r"(?:19|20)\d{2}"
_EIGHT_DIGIT_DATE = re.compile(rf"{_Y}{_M}{_D}|{_D}{_M}{_Y}|{_M}{_D}{_Y}")


def emails(turns: Sequence[Turn], t: Turn) -> list[Finding]:
    out = [Finding(t.idx, m.start(), m.end(), PiiKind.EMAIL, "email", 0.99) for m in _EMAIL_WRITTEN.finditer(t.text)]
    for m in _EMAIL_DOMAIN.finditer(t.text):
        # The local part: the words before "at", back to a word that opens the answer ("it's", "邮箱是") or a
        # pause; spoken letters, digits and "underscore"/"dot" all belong to it ("t h o m a s one nine").
        start = m.start()
        stopped = False
        words = list(re.finditer(r"[A-Za-z0-9']+|[\u4e00-\u9fff]+|[,，:：;。]", t.text[: m.start()]))
        for k in range(len(words) - 1, -1, -1):
            w = words[k]
            spelled = w.group(0) == "," and 0 < k < len(words) - 1 and len(words[k - 1].group(0)) == 1 \
                and len(words[k + 1].group(0)) == 1  # "j, o, h, a, n, n, a at web dot de"
            if (_ends_local_part(w.group(0)) and not spelled) or m.start() - w.start() > 60:
                stopped = True
                break
            start = w.start()
        if start < m.start() or not stopped:
            out.append(Finding(t.idx, start, m.end(), PiiKind.EMAIL, "spoken-email", 0.9))
        if not stopped:
            out += _email_begun_before(turns, t)
    return out


def _email_begun_before(turns: Sequence[Turn], t: Turn) -> list[Finding]:
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


def _locality_end(text: str, pos: int, alone: bool = False) -> int:
    """Where the towns, state and postcode that go on from ``pos`` end (``pos`` when none do).

    After a street a town needs a comma before it and ends the address when nothing but a common word or the
    end follows; ``alone`` (a turn that goes on with an address) needs a state or a postcode to close it.
    """
    end, closed, words = pos, False, 0
    while words < 6:
        sep = re.compile(r"\s*" if alone and end == pos else r",\s*" if end == pos else r",?\s+").match(text, end)
        if sep is None:
            break
        at = sep.end()
        if (pc := _POSTCODE_ANY.match(text, at)) is not None:
            return pc.end()
        st = _STATE.match(text, at)
        if st is not None and alone and not words and re.fullmatch(r"[A-Z]{2,3}", st.group(0)):
            break  # "HP-77392041" opens no address
        if st is not None and not common_word(st.group(0)):
            end, closed = st.end(), True
            continue
        w = _TOWN_WORD.match(text, at)
        if w is None or common_word(w.group(0)) or re.fullmatch(_NUM_WORD, w.group(0)):
            break
        end, words = w.end(), words + 1
    return end if closed or not alone else pos


def addresses(t: Turn, before: Sequence[str]) -> list[Finding]:
    out = _address_answer(t, before)
    out += [Finding(t.idx, m.start(), _locality_end(t.text, m.end()), PiiKind.ADDRESS, "street-address", 0.85)
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


def _address_answer(t: Turn, before: Sequence[str]) -> list[Finding]:
    """The reply to "what's the address?" / "送到哪里?": from the first place word or number to the end of the
    clause, when it holds a place (a street, a number, a district, a building …); a postcode when one was asked."""
    if not before or not _ASKS_ADDRESS.search(before[0]) or _TURN_ASKS.search(t.text):
        return []  # no address asked, or the turn asks one itself ("地址是…" … "哪个城市？")
    out = []
    if ZIP_CUE.search(before[0]):
        for m in _POSTCODE_SPOKEN.finditer(t.text):
            out.append(Finding(t.idx, m.start(), m.end(), PiiKind.ADDRESS, "postcode-answer", 0.8))
    # the town alone, capitalised or not ("Boise", "chicago, 60622"), or its Chinese name ("武汉")
    town = re.fullmatch(r"\W*(?:(?:uh|um|it's|its|in|嗯|呃|是|在)\W+)*(?P<town>[A-Za-z][a-z]+(?:[\s-][A-Za-z][a-z]+)?|"
                        r"[\u4e00-\u9fff]{2,6}?)(?P<zip>,?\s+(?:[A-Z]{2,3}\s+)?\d{4,5})?(?:市|省)?[\s.。!！]*", t.text)
    if town and _ASKS_TOWN.search(before[0]) and not any(common_word(w) for w in re.split(r"[\s-]", town["town"])) \
            and not re.search(r"[不没知道的了吗呢吧啊是我你您他她这那还]", town.group("town")):
        end = town.end("zip") if town["zip"] else town.end("town")
        out.append(Finding(t.idx, town.start("town"), end, PiiKind.ADDRESS, "town-answer", 0.7))
    return out + _address_clause(t, "address-answer")


def _address_clause(t: Turn, detector: str) -> list[Finding]:
    """The place that opens ``t`` (after "uh, it's …"), to the end of its clause, when it holds one."""
    head = _ANSWER_OPENING.match(t.text)
    start = head.end() if head else 0
    stop = _ADDRESS_END.search(t.text, start)
    end = len(t.text[: stop.start() if stop else len(t.text)].rstrip(" .,!?。，！？吧啊呀哈"))
    if (town_end := _locality_end(t.text, start, alone=True)) > start:
        return [Finding(t.idx, start, town_end, PiiKind.ADDRESS, detector, 0.75)]  # "bath, ba2 4lp, i'm in all day"
    # "一百零八号，三栋1202": the building and flat after the clause break belong to it
    more = _ZH_MORE_UNITS.match(t.text, end)
    end = more.end() if more and re.search(_ZH_UNIT, t.text[start:end]) else end
    body = t.text[start:end]
    if body and (_ZH_ADMIN.search(body) or re.search(r"号|单元|楼", body) or _POSTCODE_UK.search(body)
                 or re.search(rf"\b{_US_STATE}\b,?\s+\d{{5}}\b", body) or _TOWN_AND_ZIP.fullmatch(body) or (
            re.search(r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine)\b", body, re.IGNORECASE)
            and re.search(rf"\b{_STREET}\b|\b(?:box|apartment|apt|unit|flat)\b", body, re.IGNORECASE))):
        return [Finding(t.idx, start, end, PiiKind.ADDRESS, detector, 0.75)]
    return []


def addresses_continued(turns: Sequence[Turn], found: Sequence[Finding]) -> list[Finding]:
    """The rest of an address a speaker goes on with in their next turn, the other party saying "mm-hm" between
    or asks for the rest ("27 Orchard Way," … "Norwich, NR4 7TJ"; "…文三路" "几号？" "三百一十二号，…")."""
    out = []
    for f in found:
        t = turns[f.utterance]
        if f.kind is not PiiKind.ADDRESS or t.text[f.end:].strip(" ,，.。、…-"):
            continue
        for nxt in turns[t.idx + 1: t.idx + 4]:
            if nxt.speaker == t.speaker and nxt.role == t.role:
                out += _address_clause(nxt, "address+split")
                break
            if not BACKCHANNEL.fullmatch(nxt.text) and not (
                    len(nxt.text) < 40 and (_ASKS_ADDRESS.search(nxt.text) or _ASKS_REST.search(nxt.text))):
                break
    return out


# A date's own clause about something else than birth: a delivery, a booking, a trip ("快递说是十月二号到").
_EVENT_CLAUSE = re.compile(r"快递|物流|发货|到货|送达|签收|预约|预订|入住|退房|航班|出发|下单|"
                           r"\b(?:deliver(?:y|ed)?|arriv(?:e|es|ed|al)|ship(?:s|ped|ping)?|appointment|flight|check[\s-]?in)\b",
                           re.IGNORECASE)


def _clause_at(text: str, start: int, end: int) -> str:
    """The clause (between , 。 ; ! ?) that holds text[start:end]."""
    left = max(text.rfind(c, 0, start) for c in ",，。;；!！?？")
    rights = [i for i in (text.find(c, end) for c in ",，。;；!！?？") if i >= 0]
    return text[left + 1: min(rights) if rights else len(text)]


def dates(t: Turn, before: Sequence[str]) -> list[Finding]:
    """Dates of birth (a verification answer): dates said where the turn or the question before is about birth.
    Appointment, delivery and purchase dates are left alone."""
    if not (_BIRTH_CONTEXT.search(t.text) or any(_BIRTH_CONTEXT.search(b) for b in before)):
        return []
    out = [Finding(t.idx, m.start(), m.end(), PiiKind.DATE, "birth-date", 0.85) for m in _DATE_EN.finditer(t.text)]
    out += [Finding(t.idx, m.start(), m.end(), PiiKind.DATE, "birth-date", 0.85) for m in _DATE_ZH.finditer(t.text)]
    out = [f for f in out if not ((c := _clause_at(t.text, f.start, f.end)) and _EVENT_CLAUSE.search(c)
                                  and not _BIRTH_CONTEXT.search(c))]
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


def national_insurance(t: Turn) -> list[Finding]:
    return [Finding(t.idx, m.start(), m.end(), PiiKind.ID, "uk-national-insurance", 0.9)
            for m in _NI_NUMBER.finditer(t.text)]


def names_in_emails(turns: Sequence[Turn], found: Sequence[Finding]) -> list[str]:
    """The words of each written address's local part: often the person's names, said elsewhere in the call
    ("lindiwe.mbeki@…" … "my daughter lindiwe")."""
    return [w for f in found if f.detector == "email"
            for w in re.split(r"[._\-+\d]+", turns[f.utterance].text[f.start:f.end].split("@")[0])
            if len(w) >= 3 and w.isalpha() and w.lower() not in _MAILBOX_WORDS]
