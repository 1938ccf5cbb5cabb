"""Customers' names in a transcript: given ("my name is …", "我叫…", "我姓…"), spelled ("K-I-N-G"), described
("木子李"), used by the agent ("Mr. Johnson", "王先生"), or known from the call's metadata.

Names in free speech are the hard part of personal data: there is no checksum, and a recogniser capitalises
company names too. So a name is taken only where the wording introduces one or the agent has just asked for
it; every name found is then hidden wherever else it is said in the call. An agent introducing themselves
("this is Travis") is not a customer's name and is left for the self-identification items to score.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Sequence
from importlib import resources
from typing import TypeVar

T = TypeVar("T")
Make = Callable[[int, int, int, str, float], T]

# The most common Chinese surnames (they cover the great majority of people), compound ones first.


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


_COMPOUND = _wordset("欧阳 司马 诸葛 上官 东方 皇甫 尉迟 公孙 慕容 令狐 宇文 长孙 夏侯 轩辕 端木 南宫 司徒 申屠 "
                     "万俟 闻人")
_SINGLE = set(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪"
    "范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜"
    "倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲"
    "房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商"
    "刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池乐查麻"
)
# Common words that open with a surname character and are not names (高兴, 方便, 王者, 张开 …).
_NOT_NAMES = _wordset(
    "高兴 方便 方面 方法 方式 方案 方向 王者 张开 李子 明白 明天 明年 明显 文件 文字 时间 时候 "
    "关于 关系 关注 安全 安排 安装 成功 成本 常见 常规 路上 江湖 金额 白天 石头 钱包 全部 全额 "
    "全面 应该 应用 和平 宁可 单位 单独 简单 简直 车辆 车子 车型 项目 连接 连续 管理 解决 解释 "
    "费用 宫殿 卫生 米饭 宗旨 师傅 商品 商家 商量 沙发 荣幸 乐意 池子 查询 查看 查到 查一 华为 "
    "黄金 平安 中国 房子 房间 游戏 尚未 向您 和您 于是 万一 齐全 戴上 包括 包裹 包装 甘心 余额 "
    "叶子 程序 苏宁 康复 施工 温度 严重 季度 童鞋 梅花 凌晨 毕竟 涂改 盛情 曲线 骆驼 蓝色 游客 "
    "辛苦 管道 柴油 阳光 时代 农业 司机 卓越 古代 吉利 简介 车主 项链 连锁 麦当劳 景区 党员 "
    "费心 冷静 席位 卫星 全家 应急 边上 师兄 和好 商场 沙子 荣誉 明确 乐观 麻烦 江苏 路由 马上 "
    "周末 周一 周二 周三 周四 周五 周六 周日 周年 周围 孙子 胡说 何时 何况 高速 高铁 郑重 谢谢 "
    "许多 许可 韩国 曾经 董事 杜绝 余下 程度 苏州 任何 任务 沈阳 钟头 陆续 范围 金融 石家庄 "
    "夏天 付款 付费 付钱 白色 江西 段时间 顾客 毛病 万元 严格 武汉 常常 文明 安心 颜色 申请 "
    "关机 关闭 左边 符合 舒服 纪念 毕业 单子 单元 成都 谷歌 路过 房东 "
)
# Chinese surnames described by their parts, as callers do to spell them (木子李, 弓长张, 耳东陈 …).
_STROKES = r"(?:[一二三四五两][横竖撇捺点])*[一二三四五两][横竖撇捺](?:[一二三四五两][横竖撇捺点])*"
_DESCRIBED = re.compile(rf"{_STROKES}的?[\u4e00-\u9fff]|"  # by its strokes: "三横一竖王"
                        # by its parts: "弓长张", "木子李"
                        r"(?:弓长|立早|木子|木易|口天|耳东|双木|古月|草头|言午|禾口|人可|文刀|关耳|走肖|双口|"
                        r"千里|子小|"
                        r"日月|三点水|立人|单人|双人|宝盖|提手)[\u4e00-\u9fff]"
                        # a character by its radical: "女字旁的婷", "三点水的江", "草字头的萍"
                        r"|[\u4e00-\u9fff]{1,3}(?:字旁|偏旁|字头|字底|字框|点水)的[\u4e00-\u9fff]")
_HAN = r"[\u4e00-\u9fff]"
# Characters that end a Chinese name: particles, pronouns, verbs that follow a name in speech.
_BREAK = frozenset("的了吗呢吧啊呀哦嘛是在和跟与我你您他她它们这那有没不也就都还要想说叫姓先女老师经理"
                   "总来去到给让请对就办打电话手机号码好")
_TITLES_ZH = "先生|女士|小姐|老师|阿姨|叔叔|大哥|大姐|同学|经理|总|师傅|老板"
_FILLER_ZH = r"(?:那个|就是|呃|嗯|额|，)*"
_GIVEN_ZH = re.compile(
    r"(?:我叫|我的名字(?:是|叫)|名字(?:是|叫)|姓名(?:是)?|叫我|全名(?:是)?|(?:^|(?<=[，,\s]))叫(?!了|过|车|外卖|人|醒)|"
    r"(?:机主|户主|他|她|本人|老公|老婆|爱人|孩子)(?:叫|是))"
    rf"\s*{_FILLER_ZH}(?P<name>{_HAN}{{1,4}})")
_RELATIVES_ZH = (r"(?:爱人|老公|老婆|丈夫|妻子|妈妈?|爸爸?|母亲|父亲|儿子|女儿|孩子|哥哥|姐姐|弟弟|妹妹|爷爷|奶奶|"
                 r"外婆|外公|姥姥|姥爷)")
# The name an account or a form holds, read by either party: "户名是王建国", "借款人是吴敏吧", "联系人写的是…".
_HOLDER_ZH = re.compile(
    r"(?:户名|机主|户主|开户人|借款人|联系人|收件人|收货人|寄件人|持卡人|投保人|被保险?人|参保人|被保人|乘机人|乘车人|"
    r"住客|租客|患者|就诊人|业主|房主|学员|车主|申请人|学生|登记|预留|受益人|入住人|取车人|提车人|领取人|预约人|监护人|"
    r"代理人|委托人|承租人|订房人|旅客|乘客|签收人|预[订定]人|订票人|订餐人|购买人|付款人|办理人|经办人|报名人|"
    rf"{_HAN}{{1,2}}人(?=叫|姓名|名字))(?:人)?(?:姓名|名字)?(?:写|登记)?的?"
    rf"(?P<verb>是|叫|为)?\s*(?:我{_RELATIVES_ZH}[，,\s]*)?{_FILLER_ZH}(?P<name>{_HAN}[\u4e00-\u9fff·]{{0,7}})")
# A relative named in passing: "改成我女儿孙若曦", "我老公张伟的卡".
_RELATIVE_ZH = re.compile(rf"(?:我|他|她)的?{_RELATIVES_ZH}(?:叫|是)?[，,\s]*(?P<name>{_HAN})")
_SURNAME_ZH = re.compile(rf"(?:我姓|免贵姓|贵姓|姓)\s*(?P<name>{_HAN}{{1,3}})")
_I_AM_ZH = re.compile(rf"我是\s*{_FILLER_ZH}(?P<name>{_HAN}{{2,3}})(?=[，。,.!?？！\s]|$|啊|呀|呢)")
# A character described by a word it is in: "雨是下雨的雨", "方向的方".
_CHAR_OF_WORD = re.compile(rf"(?P<word>{_HAN}{{1,3}})的(?P<char>{_HAN})")
_TITLED_ZH = re.compile(rf"(?P<name>{_HAN}{{1,3}}?)(?={_TITLES_ZH})")
_ASKS_NAME_ZH = re.compile(r"怎么称呼|贵姓|姓名|叫什么名字|您的名字|名字是|全名|户名|"
                           r"(?:收件人|联系人|收货人|寄件人|乘机人|持卡人|车主|借款人)(?:呢|[？?])|"
                           r"(?:开户人|户名|收货人|收件人|联系人|持卡人|投保人|被保险?人|机主|户主)(?:是|叫|姓名)")
# A Latin-letter name after a Chinese lead ("名字是 Zhang Wei").
_GIVEN_ZH_LATIN = re.compile(
    r"(?:我叫|名字(?:是|叫)|姓名(?:是)?|拼音(?:是)?|英文名(?:字)?(?:是|叫)?)\s*"
    r"(?P<name>[A-Za-z][a-z]+(?:\s+[A-Za-z][a-z]+){0,2})(?![A-Za-z])")

_CAP = r"[A-Z][a-zA-Z'\-]+"
# Where a clause ends after a word: punctuation, or the end of the turn.
_CLAUSE_END = r"\s*(?:[,.;!?]|$)"
_GIVEN_EN = re.compile(
    r"\b(?:my\s+(?:full\s+|first\s+|last\s+|sur|middle\s+|maiden\s+)?name(?:'s|\s+is)|"
    r"(?:first|last|full|sur|middle|maiden)\s*name(?:'s|\s+is)|name's|name\s+is|calls?\s+me|go\s+by|"
    r"name\s+(?:on|for|under)\s+(?:the\s+)?\w+\s+is|"
    r"under\s+the\s+name(?:\s+of)?|spelled|it's\s+spelled)\s+"
    r"(?P<name>[A-Za-z][a-zA-Z'\-]+(?:\s+[A-Za-z][a-zA-Z'\-]+){0,2})",
    re.IGNORECASE)
# A relative named in passing: "the account's under my wife, Priya Raman", "My husband, Tom Reyes, is …".
_RELATIVE_EN = re.compile(
    r"\b(?i:wife|husband|son|daughter|mother|mum|mom|father|dad|partner|brother|sister|grandmother|grandfather|"
    r"grandma|grandpa|aunt|uncle|niece|nephew|fianc[ée]e?)(?:'s\s+(?i:name|account))?(?:\s+is)?,?\s+"
    rf"(?P<name>{_CAP}(?:\s+{_CAP})?)")  # "in my husband's name, Oluwaseun Bakare"
_SELF_INTRO_EN = re.compile(r"\bmy\s+name\b|\bname\s+is\b|\bname's\b", re.IGNORECASE)
# The name an account or booking is for, as either party reads it: "I see the account for Chidi Okonkwo".
_HELD_FOR_EN = re.compile(r"\b(?i:account|booking|reservation|policy|file|record|profile|membership|claim)s?\s+"
                          rf"(?i:for|of|belonging\s+to|in\s+the\s+name\s+of)\s+(?P<name>{_CAP}(?:\s+{_CAP})?)")
# "this is aoife, aoife brennan-kelly": a word said again with another after it, in a self-introduction.
_INTRO_REPEAT_EN = re.compile(r"\b(?:this\s+is|it's|i'm|i\s+am|he's|she's|he\s+is|she\s+is|speaking)\s+"
                              r"(?P<first>[A-Za-z][a-z'\-]+),?\s+"
                              r"(?P<again>(?P=first))\s+(?P<last>[A-Za-z][a-z'\-]+)", re.IGNORECASE)
# "booked under Kowalski", "I've got that under Ingrid Lindqvist": a name a booking or account is held under.
_UNDER_EN = re.compile(rf"\bunder\s+(?:the\s+name\s+(?:of\s+)?)?(?P<name>{_CAP}(?:\s+{_CAP})?)")
# "first name Wei, last name Zhang": without "is", only a capitalised word is taken.
_NAMED_EN = re.compile(r"\b(?:first|last|sur|middle|maiden)\s*name\s+(?P<name>[A-Za-z][A-Za-z'\-]+"
                       r"(?:\s+[A-Za-z][A-Za-z'\-]+)?)", re.IGNORECASE)
_INTRO_EN = re.compile(rf"\b(?:(?:that's|it's|this\s+is)\s+me,?|this\s+is|it's|it\s+is|i'm|i\s+am|speaking)\s+"
                       rf"(?P<name>{_CAP}(?:\s+{_CAP}){{0,2}})")
# "Mr. Johnson", and in lower case as recognisers also write it ("mr okafor"); "miss" only capitalised (a verb).
_TITLED_EN = re.compile(
    rf"\b(?:(?i:mr|mrs|ms|mister|mx)\.?|Dr\.?|Miss|Madam)\s+(?P<name>[A-Za-z][A-Za-z'\-]+(?:\s+{_CAP})?)")
# "it's doctor halvorsen", "thank you dr halvorsen": in lower case only before a surname of the census list and
# after words that address or introduce someone ("the doctor said", "two dr peppers", "oak dr" are no titles).
_DOCTOR_EN = re.compile(r"\b(?:(?i:it's|is|this\s+is|i'm|am|you|thanks|with|to|see|hi|hello|hey|dear|ask\s+for)\s+"
                        rf"|^)(?:doctor|dr\.?)\s+(?P<name>[a-z][a-z'\-]+)(?P<end>{_CLAUSE_END})?")
# Letters one by one: "K-I-N-G", "s m i t h", "N as in Nancy, G, U, Y, E, N".
_LETTER = r"[A-Za-z](?:\s+(?i:as\s+in|for)\s+[A-Za-z][a-z]+)?"
_CODE_DIGITS = re.compile(r"\s*(?:-|(?i:dash|hyphen))?\s*(?:\d|(?i:zero|oh|one|two|three|four|five|six|seven|eight|"
                          r"nine)\b)")
_SPELLED = re.compile(rf"(?<![A-Za-z'])(?:{_LETTER}(?:\s*[-.,]\s*|\s+)){{2,}}{_LETTER}(?![A-Za-z'])")
# The agent addressing the customer by name: "no problem Keisha, let me check".
_VOCATIVE_EN = re.compile(
    r"\b(?:thanks|thank\s+you|no\s+problem|okay|ok|sure|hi|hello|sorry|alright|all\s+right|great|perfect|"
    rf"absolutely|of\s+course|welcome|morning|afternoon|evening)\s*,?\s+(?P<name>{_CAP})(?=\s*[,.!?]|\s*$)",
    re.IGNORECASE)
_ASKS_NAME_EN = re.compile(
    r"your\s+(?:full\s+|first\s+|last\s+)?name|who\s+am\s+i\s+speaking|who\s+(?:do\s+i|i'm)\s+(?:have|speaking)|"
    r"spell\s+(?:that|it|your)|name\s+on\s+the\s+\w+|your\s+surname|"
    r"(?:can|may|could)\s+i\s+(?:have|get|take)\s+(?:the\s+)?[\w']+(?:\s+[\w']+)?\s+name|"
    r"(?:what's|what\s+is)\s+the\s+[\w']+\s+name|a\s+name\s+for|ask\s+for|who\s+(?:should|do)\s+(?:we|i)\s+ask|"
    r"who(?:'s|\s+is)\s+the\s+(?:\w+\s+)?(?:holder|owner|applicant|patient|passenger|guest|member)\b|"
    r"\bname(?:\s+please)?\s*[?.]?\s*$",  # a request that ends on "name": "and the account holder name"
    re.IGNORECASE)
# Words a name slot can hold that are not names ("my name is not on it", "this is Amazon", "it's Monday").
# Words of a service call that a short reply holds besides a name ("it's the same as on the policy").
_SERVICE_WORDS = _wordset("""uh um er erm hmm mm mhm uh-huh yep yup nope okay ok yeah it's that's i'm i've i'd we're
    you're they're there's what's let's don't can't won't isn't ask asked same policy account number order card phone
    email address payment bill booking reservation ticket name first last surname spelled spell spelling letter
    letters just like think know need want got get okay sure thanks thank hello hi hey please sorry fine good great
    right yes correct exactly still actually really maybe probably customer service help calling called
    cell mobile landline home work use wife husband son daughter mother mum mom father dad partner brother sister
    grandmother grandfather grandma grandpa aunt uncle niece nephew social security ssn pin passcode password zip
    postcode reference member membership birth""")
# First names that are also everyday words, never taken from lower-case text ("this is will be fine").
_COMMON_FIRST_NAMES = _wordset("""will may june april august mark bill grant hope joy faith art ray rose dawn summer
    don guy max sue jack frank earl an lou cherry major sunday else long young page jean carol ivy pat penny sky
    star chance chase crystal dusty gay glen lane lee rich rob ruby sandy sterling trinity dale drew gene gil
    harmony holly iris jewel king lily lyn miles misty noble pearl price rod roman sonny spring sunny ward""")
_NOT_NAME_EN = _wordset(
    """a an the and or but so is was be not no yes yeah okay ok sure just really still here there calling call
    trying looking having going gonna wanna about from with for on in at to of my your his her our their this that it
    sorry fine good great well right correct calling back new again also actually basically very too pretty
    monday tuesday wednesday thursday friday saturday sunday january february march april may june july august
    september october november december today tomorrow yesterday morning afternoon evening
    customer service support sales billing account department manager agent representative team company bank
    hello hi hey thanks thank please mister miss mr mrs ms mx dr sir madam ma'am i'm i we you he she they me us them
    doctor professor nurse officer
    what when where why how who which one two three four five six seven eight nine ten
    interested wondering asking afraid glad happy sure able unable worried confused calling concerned"""
)


def name_findings(turns: Sequence[tuple[str, bool]], known: Sequence[str], make: Make[T]) -> list[T]:
    """Names in ``turns`` (each ``(text, said_by_agent)``) as ``make(turn, start, end, detector, confidence)``.

    Args:
        known: names from the metadata (e.g. the customer's name from the CRM), hidden wherever said.
    """
    spans: list[tuple[int, int, int, str, float]] = []
    for i, (text, agent) in enumerate(turns):
        asked = _asked_before(turns, i)
        spans += [(i, *s) for s in _names_zh(text, agent, asked)]
        spans += [(i, *s) for s in _names_en(text, agent, asked)]
    # "请问是弓长张吗？" … "不是弓长张，是立早章": the guess the customer denies is not their name
    denied = {m.group(1) for text, agent in turns if not agent
              for m in re.finditer(rf"不是({_HAN}{{2,4}}?)(?=[，,。\s]|$)", text)}
    spans = [sp for sp in spans if turns[sp[0]][0][sp[1]:sp[2]] not in denied]
    names = {n for n in known if n.strip()}
    for i, s, e, det, _ in spans:
        names.update(_name_parts(turns[i][0][s:e], det))
    found = {turns[i][0][s:e] for i, s, e, _, _ in spans}
    spans += _recurrences(turns, names)
    spans += _described_characters(turns, names | found)
    return [make(i, s, e, det, conf) for i, s, e, det, conf in spans]


def _asked_before(turns: Sequence[tuple[str, bool]], i: int) -> bool:
    """The other party's last real question, within three turns, asks for a name ("机主姓名?" … "蒋" … "嗯" …
    "蒋春燕"); a later question about something else ("哪个房号?") ends it."""
    for text, agent in reversed(turns[max(0, i - 3): i]):
        if agent == turns[i][1] or BACKCHANNEL.fullmatch(text):
            continue
        return _asked_for_name(text)
    return False


# What the other party may say while a number or a name is given without interrupting it.
BACKCHANNEL = re.compile(r"\W*(?:(?:m+[\s-]*h?m+|uh[\s-]*huh|mhm|yeah|yep|yes|okay|ok|right|sure|go\s+on|got\s+it|"
                         r"go\s+ahead|continue|carry\s+on|keep\s+going|and|then|and\s+the\s+rest|"
                         r"嗯+|好的?|对|是的?|您说|你说|请说|[您你请]?继续|然后呢?|接着说|还有呢?)[\s,.!，。！…]*)+",
                         re.IGNORECASE)


def _asked_for_name(text: str) -> bool:
    """The turn asks for a name: a known question, any request naming "name" that is not a self-introduction
    ("and the name as it appears on the card?", "can i confirm the name and email on your account"), or a question
    that checks one ("is that Mrs. Okafor?", "您是黄女士吧？"): the reply may give the full name."""
    if _ASKS_NAME_ZH.search(text) or _ASKS_NAME_EN.search(text):
        return True
    checked = [start for q in _QUESTION.findall(text)
               for start in [*(m.start() for m in _TITLED_EN.finditer(q)), *(s for s, _, _, _ in _titled_zh(q))]
               if _IDENTITY_Q.search(q[:start])]
    if _confirmed_en(text) or checked \
            or any(_zh_name(text, m.start("name"), 3) == m.end("name") for m in _CONFIRM_ZH.finditer(text)):
        return True
    if re.search(r"\b(?:mr|mrs|ms|miss|dr)\.*\s*$", text, re.IGNORECASE):
        return True  # "thank you mr..." waits for the name
    return bool(re.search(r"\b(?:sur)?name\b", text, re.IGNORECASE)) and not _SELF_INTRO_EN.search(text)


# The words of the agent checking who is on the line ("is this …", "am I speaking with …").
_WHO_IS_IT = r"is\s+(?:this|that|it)|(?:am\s+i|i'm|i\s+am)\s+(?:speaking|talking)\s+(?:to|with)"
# What comes just before a name the agent checks ("is that Mrs. Okafor?", "您是黄女士吧？", "是那个方女士吗").
_IDENTITY_Q = re.compile(rf"(?:\b(?:{_WHO_IS_IT}|are\s+you|speaking\s+(?:to|with))\s+(?:the\s+)?"
                         r"|(?:您|你)?是(?:那个)?)$", re.IGNORECASE)
# A question sentence: up to "?" or a closing 吗/吧 ("Is that Mrs. Okafor?", "请问是那个方女士吗").
_QUESTION = re.compile(r"(?:\b(?i:mr|mrs|ms|dr)\.|[^.!?。！？])*(?:[?？]|[吧吗](?=[。！]?\s*$))")
# What may stand before a surname and its title ("找周女士", "那个方女士"); other characters make a word with it
# ("工程经理", "语文老师").
_BEFORE_TITLED = _BREAK | frozenset("找个给跟叫问请位那这让向与被把帮谢喊嗯哦哎喂见")
# The agent checking who is on the line: "is this ricardo", "am I speaking with Joan Hartley?".
_CONFIRM_EN = re.compile(rf"\b(?:{_WHO_IS_IT}|(?:do|have)\s+i\s+(?:have|got))\s+"
                         r"(?P<name>[A-Za-z][a-zA-Z'\-]+(?:\s+[A-Za-z][a-zA-Z'\-]+)?)", re.IGNORECASE)


def _confirmed_en(text: str) -> list[tuple[int, int, str, float]]:
    """Names in the agent's check of who is speaking, taken only when the census knows them ("is this the right
    number?", "is that Visa?" are not names)."""
    out = []
    for m in _CONFIRM_EN.finditer(text):
        words = list(re.finditer(r"[A-Za-z][a-zA-Z'\-]*", m.group("name")))
        if not _is_first_name(words[0].group(0)) and not _is_surname(words[0].group(0)):
            continue
        end = words[0].end()
        if len(words) > 1 and _is_surname(words[1].group(0)):
            end = words[1].end()
        out.append((m.start("name"), m.start("name") + end, "confirmed-name", 0.75))
    return out


def _zh_name(text: str, start: int, max_len: int) -> int:
    """The end of a Chinese name that starts at ``start`` with a known surname (``start`` when there is none)."""
    if any(text.startswith(c, start) for c in _COMPOUND):
        end = start + 2
        max_len += 1
    elif start < len(text) and text[start] in _SINGLE:
        end = start + 1
    else:
        return start
    while end < len(text) and end - start < max_len and re.match(_HAN, text[end]) and text[end] not in _BREAK:
        end += 1
    if text[start:end] in _NOT_NAMES or text[start: start + 2] in _NOT_NAMES:
        return start
    return end


def _names_zh(text: str, agent: bool, asked: bool) -> list[tuple[int, int, str, float]]:
    out: list[tuple[int, int, str, float]] = []
    # A surname described by its parts, by the customer or read back by the agent ("是双木林吧？").
    for m in _DESCRIBED.finditer(text):
        if "不是" in text[max(0, m.start() - 3): m.start()]:
            continue  # "不是弓长张": the surname it is not
        out.append((m.start(), m.end(), "zh-described-surname", 0.9))
        # "林小雨，双木林", "我本人，张伟，弓长张": the name the description is about, in the same turn
        for cand in re.finditer(rf"(?:^|(?<=[\s，,。、]))\s*{_FILLER_ZH}(?={re.escape(m.group(0)[-1])})", text):
            start = cand.end()
            end = _zh_name(text, start, 3)
            if end - start >= 2 and start != m.end() - 1:
                out.append((start, end, "zh-described-name", 0.85))
    if not agent:
        for m in _GIVEN_ZH.finditer(text):
            end = _zh_name(text, m.start("name"), 3)
            end = end if end > m.start("name") else _unlisted_name(text, m.start("name"))
            if end > m.start("name"):
                out.append((m.start("name"), end, "zh-given-name", 0.9))
        for m in _SURNAME_ZH.finditer(text):
            end = _zh_name(text, m.start("name"), 1)
            if end > m.start("name"):
                out.append((m.start("name"), end, "zh-surname", 0.9))
        for m in _RELATIVE_ZH.finditer(text):
            end = _zh_name(text, m.start("name"), 3)
            ends_clause = end == len(text) or not re.match(_HAN, text[end]) or text[end] in _BREAK
            if end - m.start("name") >= 2 and ends_clause:
                out.append((m.start("name"), end, "zh-relative-name", 0.8))
        for m in _I_AM_ZH.finditer(text):
            end = _zh_name(text, m.start("name"), 3)
            if end - m.start("name") >= 2:
                out.append((m.start("name"), end, "zh-i-am", 0.75))
        if asked and not _GIVEN_ZH.search(text) and not _SURNAME_ZH.search(text):
            bare = re.fullmatch(rf"\s*({_HAN})[。，.!?？！\s]*", text)
            if bare and bare.group(1) in _SINGLE:  # the surname alone
                out.append((bare.start(1), bare.end(1), "zh-answered-name", 0.7))
            for m in re.finditer(_HAN + "+", text):
                end = _zh_name(text, m.start(), 3)
                if end - m.start() >= 2:
                    out.append((m.start(), end, "zh-answered-name", 0.7))
                    break
            else:
                whole = re.fullmatch(rf"\s*({_HAN}[\u4e00-\u9fff·]+)[。，.!?？！\s]*", text)
                if whole and _unlisted_name(text, whole.start(1)) == whole.end(1):  # "扎西多吉"
                    out.append((whole.start(1), whole.end(1), "zh-answered-name", 0.65))
    for m in _HOLDER_ZH.finditer(text):
        end = _zh_name(text, m.start("name"), 3)
        if end - m.start("name") < 2 and m.group("verb"):
            end = _unlisted_name(text, m.start("name"))
        if end - m.start("name") >= 2:
            out.append((m.start("name"), end, "zh-holder-name", 0.85))
        elif m.group("verb") and m.group("name") in _SINGLE:  # "预订人是黄，黄色的黄": the surname first
            out.append((m.start("name"), m.end("name"), "zh-holder-surname", 0.8))
    out += _titled_zh(text)
    if agent:
        for m in _CONFIRM_ZH.finditer(text):
            end = _zh_name(text, m.start("name"), 3)
            if end == m.end("name") and end - m.start("name") >= 2:
                out.append((m.start("name"), end, "zh-confirmed-name", 0.8))
    else:
        out += _surname_led(text, out)
    return out


# The agent checking a full name: "马文博是吧？", "参保人是黄晓东本人吗？", "您是李娜吗？".
_CONFIRM_ZH = re.compile(rf"(?:^|(?<=[\s，,。是]))(?P<name>{_HAN}{{2,4}}?)(?:本人)?(?:是吧|对吧|对吗|是吗|吗|吧)[？?]")


# Characters no name of people without a Han surname (扎西多吉, 乌兰其其格, 阿依古丽·买买提) holds, that a reply does.
_NOT_IN_NAME = _BREAK | frozenset("等知忘下没个些点份什么谁哪几啥怎")
_CLAUSE_NAME = re.compile(r"[\u4e00-\u9fff·]{2,8}(?=[\s，,。.!?？！、]|$)")


def _unlisted_name(text: str, start: int) -> int:
    """The end of a name without a listed surname that fills its clause from ``start`` (2 to 8 characters, "·"
    between parts), or ``start`` when the clause holds anything else."""
    m = _CLAUSE_NAME.match(text, start)
    if not m or any(c in _NOT_IN_NAME for c in m.group(0)) or m.group(0)[:2] in _NOT_NAMES:
        return start
    return m.end()


def _titled_zh(text: str) -> list[tuple[int, int, str, float]]:
    """Names before a title: the shortest that starts with a surname ("王先生", "王小明女士", not "您好王"); a
    surname alone only where no word runs into it ("工程经理" is no 程经理)."""
    out = []
    for m in _TITLED_ZH.finditer(text):
        for s in range(max(0, m.end() - 3), m.end()):
            end = _zh_name(text[: m.end()], s, 3)
            if end == m.end():
                if end - s == 1 and s > 0 and re.match(_HAN, text[s - 1]) and text[s - 1] not in _BEFORE_TITLED:
                    break
                out.append((s, end, "zh-titled-name", 0.85))
                break
    return out


def _surname_led(text: str, found: Sequence[tuple[int, int, str, float]]) -> list[tuple[int, int, str, float]]:
    """Clauses of a surname just given in the same turn: the full name it opens ("我姓方，方向的方，方晓彤",
    "欧阳，… 欧阳立婷"), or the surname said alone beside its description or its full name ("赵，走肖赵，…",
    "叶，树叶的叶，叶思彤")."""
    surnames = {text[s:e] for s, e, _, _ in found if e - s <= 2 and _zh_name(text[:e], s, 1) == e}
    surnames |= {text[e - 1] for s, e, det, _ in found if det == "zh-described-surname"}
    # "叶，树叶的叶，叶思彤": the surname of a full name given in the turn, said alone before it
    surnames |= {text[s: _zh_name(text[: s + 2], s, 1)] for s, e, _, _ in found if e - s >= 2} - {""}
    out = []
    for m in re.finditer(rf"(?:^|(?<=[\s，,。、]))({_HAN}{{1,4}})(?=[\s，,。、！!？?]|$)", text):
        clause = m.group(1)
        if clause in surnames and not any(s == m.start(1) for s, _, _, _ in found):
            out.append((m.start(1), m.end(1), "zh-surname", 0.8))  # "赵，走肖赵，…"
        elif any(clause.startswith(x) and len(clause) > len(x) for x in surnames) \
                and _zh_name(text, m.start(1), 3) == m.end(1):
            out.append((m.start(1), m.end(1), "zh-surname-led-name", 0.8))
    return out


def _names_en(text: str, agent: bool, asked: bool) -> list[tuple[int, int, str, float]]:
    out: list[tuple[int, int, str, float]] = []
    for m in _TITLED_EN.finditer(text):
        out.append(_words_span(m, 0.9, "titled-name", strict=False))
    for m in _DOCTOR_EN.finditer(text):
        if _is_surname(m.group("name")) and (m.start() > 0 or m.group("end") is not None):
            out.append((m.start("name"), m.end("name"), "titled-name", 0.8))
    for m in _SPELLED.finditer(text):  # the customer spelling, or the agent reading a spelling back
        if _CODE_DIGITS.match(text, m.end()):
            continue  # the letters of a code: "L I F dash 2 0 0 4 …"
        letters = re.sub(r"[^A-Za-z]", "", m.group(0))
        separated = re.search(r"[-.]", m.group(0)) is not None
        if separated or letters.isupper() or len(letters) >= 4 or asked:
            out.append((m.start(), m.end(), "spelled-name", 0.85))
            # the word just before, when it is the word spelled ("under fernández, f e r n a n d e z")
            before = re.search(r"([^\W\d_][^\W\d_'\-]*)[\s,]+$", text[: m.start()])
            if before and len(letters) >= 2 and _unaccented(before.group(1)) == letters.lower():
                out.append((before.start(1), before.end(1), "spelled-name", 0.85))
    for m in _UNDER_EN.finditer(text):
        out.append(_words_span(m, 0.8, "held-under-name"))
    for m in _RELATIVE_EN.finditer(text):
        out.append(_words_span(m, 0.8, "relative-name"))
    for m in _HELD_FOR_EN.finditer(text):
        span = _words_span(m, 0.75, "held-for-name")
        held = text[span[0]: span[1]].split()
        # two words that no common word is, or one the census lists ("the booking for Tuesday" is none)
        if len(held) == 2 or (held and (_is_first_name(held[0]) or _is_surname(held[0]))):
            out.append(span)
    for m in _RELATIVE_LOWER_EN.finditer(text):  # "calling for my mum joan hartley"
        # a census first name, or another word that is no common one and ends the clause ("callum, he's 19")
        first, last, of = m.group("first"), m.group("last"), m.group("of") or ""
        named = "name" in of and not _not_a_name(first)  # "my husband's name, gareth hughes"
        if named or _is_first_name(first) or (not last and not of and not _not_a_name(first)
                                              and re.match(_CLAUSE_END, text[m.end("first"):])
                                              and first.lower() not in _COMMON_FIRST_NAMES):
            end = m.end("last") if last and (_is_surname(last) or (named and not _not_a_name(last))) \
                else m.end("first")
            out.append((m.start("first"), end, "relative-name", 0.7))
    if agent:
        out += _confirmed_en(text)
        for m in _VOCATIVE_EN.finditer(text):
            if m.group("name")[0].isupper() and m.group("name").lower() not in _NOT_NAME_EN:
                out.append((m.start("name"), m.end("name"), "addressed-name", 0.7))
        return [s for s in out if s[1] > s[0]]
    for m in _GIVEN_ZH_LATIN.finditer(text):
        out.append(_words_span(m, 0.85, "given-name", strict=False))
    for m in _GIVEN_EN.finditer(text):
        out.append(_words_span(m, 0.9, "given-name", strict=False))
    for m in _NAMED_EN.finditer(text):  # capitalised, or in lower case when not a common word ("first name linh")
        words = [w for w in re.finditer(r"[A-Za-z][A-Za-z'\-]*", m.group("name")) if not _not_a_name(w.group(0))]
        if words and words[0].start() == 0:
            out.append((m.start("name"), m.start("name") + words[0].end(), "given-name", 0.85))
    for m in _INTRO_EN.finditer(text):
        out.append(_words_span(m, 0.75, "introduced-name"))
    for m in _INTRO_CALLING_EN.finditer(text):
        if not any(_not_a_name(w) for w in m.group("name").split()):
            out.append((m.start("name"), m.end("name"), "introduced-name", 0.75))
    if _BOOKING_EN.search(text):
        for m in _UNDER_LOWER_EN.finditer(text):
            if not _not_a_name(m.group("name")):
                out.append((m.start("name"), m.end("name"), "held-under-name", 0.7))
    for m in _INTRO_REPEAT_EN.finditer(text):
        if not _not_a_name(m["first"]) and not _not_a_name(m["last"]):
            out += [(m.start("first"), m.end("first"), "introduced-name", 0.75),
                    (m.start("again"), m.end("last"), "introduced-name", 0.75)]
    for m in _INTRO_LOWER_EN.finditer(text):
        if _is_first_name(m.group("first")):
            end = m.end("last") if m.group("last") and _is_surname(m.group("last")) else m.end("first")
            out.append((m.start("first"), end, "introduced-name", 0.7))
    if asked:
        out += _answered_en(text)
    return [s for s in out if s[1] > s[0]]


def _answered_en(text: str) -> list[tuple[int, int, str, float]]:
    """A name given in answer to "may I have your name?": capitalised words, or in a short reply (as recognisers
    write one in lower case) every word that cannot be anything else ("uh gonzalez. maria gonzalez.")."""
    words = list(re.finditer(r"[A-Za-z][A-Za-z'\-]*", text))
    # short: six words at most besides spelled letters ("aisha rahman, a i s h a"), or a first clause of three
    # ("daniel whitcombe, but everyone calls me danny")
    short = sum(len(w.group(0)) > 1 for w in words) <= 6
    first_clause = re.match(r"[^,.;!?]*", text)
    clause_end = first_clause.end() if first_clause and len(first_clause.group(0).split()) <= 3 else 0
    out = []
    for w in words:
        token = w.group(0)
        if _not_a_name(token) or len(token) < 2 or (token.isupper() and len(token) <= 4):
            continue  # a common word, or an acronym ("ID", "PIN")
        if token[0].isupper() or short or w.end() <= clause_end:
            out.append((w.start(), w.end(), "answered-name", 0.7))
    return out


# "this is tom brennan" in lower case: taken only when the word is a known first name (US census lists).
_LOWER_NAME = r"(?P<first>[a-z][a-z'\-]+)(?:\s+(?P<last>[a-z][a-z'\-]+))?"
_INTRO_LOWER_EN = re.compile(rf"\b(?:this\s+is|it's|i'm|i\s+am|ask\s+for|speaking\s+with)\s+{_LOWER_NAME}")
# "my brother callum, he's 19", "my partner's, alex, 0491 …", "my husband's name, gareth hughes"
_RELATIVE_LOWER_EN = re.compile(r"\b(?:wife|husband|son|daughter|mother|mum|mom|father|dad|partner|brother|sister|"
                                r"grandmother|grandfather|grandma|grandpa|aunt|uncle|niece|nephew)(?P<of>'s(?:\s+name)?)?"
                                rf",?\s+{_LOWER_NAME}")
# "this is venkataraman calling about …", "it's jo here": a word between an introduction and "calling"
_INTRO_CALLING_EN = re.compile(r"\b(?:this\s+is|it's|my\s+name's)\s+(?P<name>[a-z][a-z'\-]+(?:\s+[a-z][a-z'\-]+)?)"
                               r"\s+(?:calling|here|speaking)\b", re.IGNORECASE)
# "table for four at 7:30, under okafor": a booking's name in lower case, ending its clause
_UNDER_LOWER_EN = re.compile(r"\bunder\s+(?:the\s+name\s+(?:of\s+)?)?(?P<name>[a-zà-ÿ][a-zà-ÿ'\-]+)"
                             rf"(?={_CLAUSE_END})")
_BOOKING_EN = re.compile(r"\b(?:book|booked|booking|reserv\w*|table|account|order|policy|registered|appointment)",
                         re.IGNORECASE)


@functools.cache
def _census(name: str) -> frozenset[str]:
    """A name list of the ``names`` package (US census 1990): ``dist.male.first``, ``dist.female.first`` or
    ``dist.all.last``."""
    text = resources.files("names").joinpath(name).read_text(encoding="ascii")
    return frozenset(line.split()[0].lower() for line in text.splitlines() if line.strip())


@functools.cache
def _common_words() -> frozenset[str]:
    """Words a reply holds besides a name: scikit-learn's English stop words and this module's service words."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS) | _NOT_NAME_EN | _SERVICE_WORDS


def common_word(word: str) -> bool:
    """An English word a reply holds besides a name (stop words and words of a service call)."""
    return word.lower() in _common_words()


def _unaccented(word: str) -> str:
    """``word`` in lower case without its accents ("Fernández" → "fernandez")."""
    return "".join(c for c in unicodedata.normalize("NFKD", word.lower()) if not unicodedata.combining(c))


def _not_a_name(word: str) -> bool:
    w = word.lower()
    return w in _common_words() or (w.endswith("'s") and w[:-2] in _common_words())  # "my number's …"


def _is_first_name(word: str) -> bool:
    w = word.lower()
    return not _not_a_name(w) and w not in _COMMON_FIRST_NAMES and (
        w in _census("dist.male.first") or w in _census("dist.female.first"))


def _is_surname(word: str) -> bool:
    return not _not_a_name(word) and word.lower() in _census("dist.all.last")


def _words_span(m: re.Match[str], confidence: float, detector: str,
                strict: bool = True) -> tuple[int, int, str, float]:
    """The name group of ``m`` cut at the first word that cannot be part of a name."""
    start = end = m.start("name")
    lower = not m.group("name")[:1].isupper()  # a name in lower case goes on in lower case ("fatima al-sayed")
    for w in re.finditer(r"[A-Za-z][a-zA-Z'\-]*", m.group("name")):
        word = w.group(0)
        if word.lower() in _NOT_NAME_EN or (not word[0].isupper() and (strict or (end > start and not lower))):
            break
        if not word[0].isupper() and _not_a_name(word):
            break
        end = m.start("name") + w.end()
    return start, end, detector, confidence


def _name_parts(name: str, detector: str) -> set[str]:
    """What to look for elsewhere in the call once a name is found: each word of it, a spelled name joined."""
    if detector == "spelled-name":
        joined = re.sub(r"[^A-Za-z]", "", re.sub(r"\s+(?:as\s+in|for)\s+[A-Za-z]+", "", name, flags=re.IGNORECASE))
        return {joined.capitalize()} if len(joined) >= 3 else set()
    if re.search(_HAN, name):
        return {name} if len(name) >= 2 else set()
    return {w for w in name.split() if len(w) >= 2 and w.lower() not in _NOT_NAME_EN}


def _described_characters(turns: Sequence[tuple[str, bool]],
                          names: set[str]) -> list[tuple[int, int, int, str, float]]:
    """Characters of a found name described by a word they are in ("方向的方", "雨是下雨的雨")."""
    chars = {c for n in names for c in n if re.match(_HAN, c)}
    if not chars:
        return []
    return [(i, m.start(), m.end(), "zh-described-character", 0.8)
            for i, (text, _) in enumerate(turns) for m in _CHAR_OF_WORD.finditer(text)
            if m.group("char") in chars and m.group("char") in m.group("word")]


def _first_name_before(text: str, start: int) -> int:
    """Where a full name begins whose surname starts at ``start``: the word before it when that is a first name
    (a census one, a capitalised word that is no common word, or one introduced: "that's me einar bjarnason")."""
    m = re.search(r"(?:(?P<intro>\b(?:me|is|it's|i'm|am|yes|yeah)\W+))?\b(?P<word>[A-Za-z][a-z'\-]+)\s+$",
                  text[:start], re.IGNORECASE)
    if not m or _not_a_name(m.group("word")):
        return start
    word = m.group("word")
    return m.start("word") if _is_first_name(word) or word[0].isupper() or m.group("intro") else start


def _recurrences(turns: Sequence[tuple[str, bool]], names: set[str]) -> list[tuple[int, int, int, str, float]]:
    if not names:
        return []
    latin = sorted((n for n in names if not re.search(_HAN, n)), key=len, reverse=True)
    han = sorted((n for n in names if re.search(_HAN, n)), key=len, reverse=True)
    patterns = []
    if latin:
        # letter boundaries rather than \b, which fails beside Han characters ("好的kevin")
        patterns.append(re.compile(r"(?<![A-Za-z])(?:" + "|".join(map(re.escape, latin)) + r")(?![A-Za-z])",
                                   re.IGNORECASE))
    if han:
        patterns.append(re.compile("|".join(map(re.escape, han))))
    out = []
    for i, (text, _) in enumerate(turns):
        for p in patterns:
            for m in p.finditer(text):
                # the rest of the full name beside it: "Hi, Hannah Beckett, I called …" once "Hannah" is known
                after = re.match(rf"\s+({_CAP})\b", text[m.end():])
                end = m.end() + after.end() if after and not _not_a_name(after.group(1)) else m.end()
                out.append((i, _first_name_before(text, m.start()), end, "name-recurrence", 0.8))
    return out
