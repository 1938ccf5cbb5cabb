"""The redaction stage on the real call's recogniser output and on Mandarin tokens: exact placeholders, times and
words; invariants (idempotent, text and words agree, nothing hidden survives) on generated text."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from core.pii import PLACEHOLDER, PiiKind
from core.types import CallMetadata, Role, Transcript, Utterance, Word
from pipeline.pii import detect
from pipeline.pii_numbers import digit_runs
from pipeline.redact import redact_transcript, redact_utterance

DATA = Path(__file__).resolve().parents[1] / "data"


def _real_call() -> Transcript:
    """The real 4½-minute call as faster-whisper wrote it, with its word times (tests/data/real_call_whisper.json),
    each segment given the role of the hand-labelled turn it overlaps most (tests/data/real_call_roles.json)."""
    raw = json.loads((DATA / "real_call_whisper.json").read_text())
    turns = json.loads((DATA / "real_call_roles.json").read_text())
    utts = []
    for seg in raw["segments"]:
        words = tuple(Word(a, b, t, p) for a, b, t, p in seg["words"])
        best = max(turns, key=lambda t: min(t["end"], seg["end"]) - max(t["start"], seg["start"]))
        role = Role(best["role"])
        utts.append(Utterance(seg["start"], seg["end"], "".join(w.text for w in words).strip(), role=role,
                              speaker="spk0" if role is Role.AGENT else "spk1", words=words))
    return Transcript(tuple(utts), raw["duration"], "en")


def test_the_real_call_loses_the_customers_name_and_the_number_and_keeps_the_rest():
    call = _real_call()
    redacted = redact_transcript(call)
    got = [(r.utterance, r.kind, r.detector, r.start, r.end, redacted.transcript.utterances[r.utterance].text)
           for r in redacted.redactions]
    assert got == [
        (1, "NAME", "given-name", 7.26, 7.84,
         "Hello, my name is [NAME], and I bought a car not too long ago and a light is coming on"),
        (4, "NAME", "given-name", 27.05, 27.95, "Yes, my name is [NAME]"),
        (5, "NAME", "spelled-name", 28.39, 30.63, "the [NAME]"),
        (6, "NAME", "given-name", 32.43, 34.27, "My last name is [NAME]"),
        (41, "PHONE", "phone-context", 251.58, 252.06, "[PHONE]"),
    ]
    stored = json.dumps([[u.text, [w.text for w in u.words]] for u in redacted.transcript.utterances])
    for secret in ("Violet", "King", "I-O-L-E-T", "K-I-N-G", "33322222"):
        assert secret not in stored
    untouched = [i for i in range(len(call.utterances)) if i not in {r.utterance for r in redacted.redactions}]
    assert all(redacted.transcript.utterances[i] == call.utterances[i] for i in untouched)
    assert redact_transcript(redacted.transcript) == type(redacted)(redacted.transcript, ())  # idempotent


def test_each_placeholder_sits_where_its_redaction_says_and_its_word_covers_the_hidden_words():
    redacted = redact_transcript(_real_call())
    for r in redacted.redactions:
        u = redacted.transcript.utterances[r.utterance]
        assert PLACEHOLDER.fullmatch(u.text[r.char_start: r.char_end])
        assert u.text[r.char_start + 1: r.char_end - 1] == r.kind
        word = next(w for w in u.words if f"[{r.kind}]" in w.text)
        assert (word.start, word.end) == (r.start, r.end)
        assert "".join(w.text for w in u.words).strip() == u.text


def test_mandarin_tokens_keep_what_lies_outside_the_number_and_the_name():
    u = Utterance(0.0, 5.0, "好的，是13812345678。我叫王小明", role=Role.CUSTOMER, words=(
        Word(0.0, 1.0, "好的", 0.9), Word(1.0, 1.5, "，是1381", 0.8), Word(1.5, 2.0, "2345678。", 0.7),
        Word(2.0, 3.0, "我叫", 0.9), Word(3.0, 4.0, "王小明", 0.9)))
    out, placed = redact_utterance(u, detect([u]))
    assert out.text == "好的，是[PHONE]。我叫[NAME]"
    assert [(w.start, w.end, w.text, w.probability) for w in out.words] == [
        (0.0, 1.0, "好的", 0.9), (1.0, 2.0, "，是[PHONE]。", 0.7), (2.0, 3.0, "我叫", 0.9), (3.0, 4.0, "[NAME]", 0.9)]
    assert [(r.kind, r.detector, r.start, r.end, r.char_start, r.char_end) for r in placed] == [
        ("PHONE", "cn-mobile", 1.0, 2.0, 4, 11), ("NAME", "zh-given-name", 3.0, 4.0, 14, 20)]


def test_a_number_said_over_two_turns_is_hidden_in_both_and_the_customers_known_name_everywhere():
    turns = (
        Utterance(0.0, 2.0, "请问您的手机号", role=Role.AGENT, speaker="ch0"),
        Utterance(2.5, 4.0, "幺三八，一二三四", role=Role.CUSTOMER, speaker="ch1"),
        Utterance(4.1, 4.5, "嗯", role=Role.AGENT, speaker="ch0"),
        Utterance(4.6, 6.0, "五六七八", role=Role.CUSTOMER, speaker="ch1"),
        Utterance(6.5, 8.0, "好的张伟先生，已经登记了", role=Role.AGENT, speaker="ch0"),
    )
    out = redact_transcript(Transcript(turns, 8.0, "zh"), CallMetadata(customer_name="张伟"))
    assert [u.text for u in out.transcript.utterances] == [
        "请问您的手机号", "[PHONE]", "嗯", "[PHONE]", "好的[NAME]先生，已经登记了"]
    assert [(r.utterance, r.kind, r.detector) for r in out.redactions] == [
        (1, "PHONE", "cn-mobile+split"), (3, "PHONE", "cn-mobile+split"), (4, "NAME", "zh-titled-name")]
    # without words the time is estimated from the characters, inside the utterance
    assert all(turns[r.utterance].start <= r.start < r.end <= turns[r.utterance].end for r in out.redactions)


@pytest.mark.parametrize(("text", "digits"), [
    ("138 1234 5678", ["13812345678"]),
    ("幺三八，一二三四，五六七八", ["13812345678"]),
    ("eight eight eight, three three three, two two two two", ["8883332222"]),
    ("double five oh one two", ["55012"]),
    ("one eight hundred five five five one two one two", ["18005551212"]),
    ("一一零一零五一九四九一二三一零零二叉", ["11010519491231002X"]),
    ("(212) 555-0147", ["2125550147"]),
    ("请稍等一下，一样的，三四个", []),  # 一 and 三四 inside words
    ("两千九百九十九元", []),  # an amount by place value, not digits
    ("oh, I see", []),
    ("see https://t.co/4YBn633EOk", []),  # a link's letters and digits
])
def test_digit_runs_read_numbers_however_they_are_said(text, digits):
    assert [r.digits for r in digit_runs(text)] == digits


@pytest.mark.parametrize(("text", "kind"), [
    ("my ID is 11010519491231002X", PiiKind.ID),
    ("身份证号 500103198308309223", PiiKind.ID),  # a region python-stdnum does not list
    ("the card is 4111 1111 1111 1111", PiiKind.CARD),
    ("我的手机是13812345678", PiiKind.PHONE),
    ("call me on +44 20 7183 8750", PiiKind.PHONE),
    ("my account number is 88 1204 5573", PiiKind.NUMBER),  # a valid US phone shape, said as an account
    ("the last four are 7 7 3 6", PiiKind.NUMBER),
    ("my email is john dot smith at gmail dot com", PiiKind.EMAIL),
    ("邮箱是 wang xiao ming 艾特 qq 点 com", PiiKind.EMAIL),
    ("I live at 221 Baker Street apartment 4", PiiKind.ADDRESS),
    ("寄到北京市朝阳区建国路88号3号楼502室", PiiKind.ADDRESS),
    ("I was born on March 5th 1980", PiiKind.DATE),
])
def test_each_kind_is_found(text, kind):
    found = detect([Utterance(0.0, 3.0, text, role=Role.CUSTOMER)])
    assert [f.kind for f in found] == [kind]


@pytest.mark.parametrize("text", [
    "it's listed at $25 to $35", "一共两千九百九十九元，两个", "a 2017 Fusion", "明天下午三点送到",
    "press 1 for billing",
    "I ordered 3 boxes on August 10th", "这个方法很方便，我很高兴", "Thank you for calling Big Jim's Auto",
    "the 12,500 yuan plan", "请稍等一下",
])
def test_near_misses_are_left_alone(text):
    assert detect([Utterance(0.0, 3.0, text, role=Role.CUSTOMER)]) == []


@pytest.mark.parametrize(("turns", "expected"), [
    # an ID read in short pieces over turns, the agent saying "go ahead" between
    ([("c", "my social is 078 05"), ("a", "go ahead"), ("c", "1120")], [(0, "078 05", "ID"), (2, "1120", "ID")]),
    ([("c", "身份证号110105 19491231"), ("a", "嗯"), ("c", "002X")], [(0, "110105 19491231", "ID"), (2, "002X", "ID")]),
    ([("a", "请报一下身份证后四位"), ("c", "三一二X")], [(1, "三一二X", "NUMBER")]),
    # a number found once is hidden where it is said again without a cue
    ([("c", "卡尾号是5521"), ("a", "好的，5521这张卡对吗")], [(0, "5521", "NUMBER"), (1, "5521", "NUMBER")]),
    ([("c", "my patient number is 5567 221 349")], [(0, "5567 221 349", "NUMBER")]),
    # an address finished in the speaker's next turn
    ([("c", "寄到上海市浦东新区"), ("a", "嗯"), ("c", "张江镇科苑路88号5号楼1201")],
     [(0, "上海市浦东新区", "ADDRESS"), (2, "张江镇科苑路88号5号楼1201", "ADDRESS")]),
    ([("c", "Ship it to 14 Mill Road,"), ("a", "Mm-hm."), ("c", "Cambridge, CB1 2AB.")],
     [(0, "14 Mill Road", "ADDRESS"), (2, "Cambridge, CB1 2AB", "ADDRESS")]),
    # the agent checking who is on the line; the reply gives the full name
    ([("a", "and am I speaking with maria lopez"), ("c", "yes maria lopez")],
     [(0, "maria lopez", "NAME"), (1, "maria lopez", "NAME")]),
    ([("a", "请问是刘女士吧？"), ("c", "对，刘佳琪。")], [(0, "刘", "NAME"), (1, "刘佳琪", "NAME")]),
    ([("c", "我姓王，三横一竖王，王子涵。")], [(0, "王", "NAME"), (0, "三横一竖王", "NAME"), (0, "王子涵", "NAME")]),
    ([("a", "是耳东陈吗？"), ("c", "对的")], [(0, "耳东陈", "NAME")]),
    ([("c", "i'm calling for my dad walter brooks")], [(0, "walter brooks", "NAME")]),
    # in the speaker's own words the cue said last wins, a phone number too; an SSN names a number by itself
    ([("c", "the phone number on my account is old. Account number five five two one nine eight three four.")],
     [(0, "five five two one nine eight three four", "NUMBER")]),
    ([("a", "to set that up I'll need your SSN"), ("c", "two one nine, four four, seven seven one two")],
     [(1, "two one nine, four four, seven seven one two", "ID")]),
    ([("c", "my national insurance number is KL 12 34 56 B")], [(0, "KL 12 34 56 B", "ID")]),
    ([("c", "订单号前面是5520"), ("a", "嗯"), ("c", "后面是31847")], [(0, "5520", "NUMBER"), (2, "31847", "NUMBER")]),
    ([("c", "您打我办公室 82716345 就行")], [(0, "82716345", "PHONE")]),
    # a ZIP code in words; a town given alone when the town was asked for
    ([("c", "the address is nine elm court dayton ohio four five four zero two")],
     [(0, "nine elm court dayton ohio four five four zero two", "ADDRESS")]),
    ([("a", "Which city?"), ("c", "Boise.")], [(1, "Boise", "ADDRESS")]),
    ([("a", "哪个城市？"), ("c", "成都")], [(1, "成都", "ADDRESS")]),
    # names without a listed surname, a compound surname, a denied guess, a holder, a name in an email
    ([("a", "请问乘机人姓名？"), ("c", "买买提江")], [(1, "买买提江", "NAME")]),
    ([("a", "王建是吧？"), ("c", "对")], [(0, "王建", "NAME")]),
    ([("a", "请问是木子李吗？"), ("c", "不是木子李，是立早章")], [(1, "立早章", "NAME")]),
    ([("c", "我姓欧阳，欧阳娜娜")], [(0, "欧阳", "NAME"), (0, "欧阳娜娜", "NAME")]),
    ([("c", "收件人李桂芳，电话待会儿发你")], [(0, "李桂芳", "NAME")]),
    ([("c", "It's in my wife's name, Ngozi Eze.")], [(0, "Ngozi Eze", "NAME")]),
    ([("c", "my email is tomasz.wojcik@post.pl"), ("a", "thanks, and is the order for you or for tomasz")],
     [(0, "tomasz.wojcik@post.pl", "EMAIL"), (1, "tomasz", "NAME")]),
    ([("a", "I have a note for a Mr. Halvorsen"), ("c", "yes that's me sven halvorsen")],
     [(0, "Halvorsen", "NAME"), (1, "sven halvorsen", "NAME")]),
    # a checksum over both halves outranks a phone shape in the first; "您继续" lets a card go on
    ([("c", "四四零三零六一九八七"), ("a", "嗯"), ("c", "零二一五三三一二")],
     [(0, "四四零三零六一九八七", "ID"), (2, "零二一五三三一二", "ID")]),
    ([("c", "卡号是6228 4800"), ("a", "嗯，您继续"), ("c", "1234 5678 903")],
     [(0, "6228 4800", "CARD"), (2, "1234 5678 903", "CARD")]),
    # the agent asking for the rest of an address; a pause inside one; a town and ZIP given after "the city"
    ([("c", "广州市天河区体育西路"), ("a", "几号？"), ("c", "一百零八号，三栋1202")],
     [(0, "广州市天河区体育西路", "ADDRESS"), (2, "一百零八号，三栋1202", "ADDRESS")]),
    ([("c", "寄到南京市鼓楼区中山北路30号，嗯，金鹰大厦二座")],
     [(0, "南京市鼓楼区中山北路30号，嗯，金鹰大厦二座", "ADDRESS")]),
    ([("c", "it's 88 west elm street"), ("a", "and the city"), ("c", "denver, 80204")],
     [(0, "88 west elm street", "ADDRESS"), (2, "denver, 80204", "ADDRESS")]),
    ([("c", "flat 2, 17 Rosewood Grove, Carlton VIC 3053")],
     [(0, "flat 2, 17 Rosewood Grove, Carlton VIC 3053", "ADDRESS")]),
    ([("a", "where would you like it sent?"), ("c", "to my office, four ten harbor view road, tacoma")],
     [(1, "four ten harbor view road, tacoma", "ADDRESS")]),
    # names: a holder or relative named in passing, a surname said alone before the full name
    ([("c", "受益人是我儿子，何嘉伟")], [(0, "何嘉伟", "NAME")]),
    ([("c", "报案人叫林国栋")], [(0, "林国栋", "NAME")]),
    ([("c", "把联系人换成我妈妈邓秀兰")], [(0, "邓秀兰", "NAME")]),
    ([("a", "请问订房人姓名？"), ("c", "郑，郑重的郑，郑雨桐")],
     [(1, "郑", "NAME"), (1, "郑重的郑", "NAME"), (1, "郑雨桐", "NAME")]),
    ([("a", "I can see the policy for Tunde Bakare here")], [(0, "Tunde Bakare", "NAME")]),
    ([("c", "hi it's niamh, niamh o'sullivan")], [(0, "niamh", "NAME"), (0, "niamh o'sullivan", "NAME")]),
    ([("a", "and I'm speaking to Marcus?"), ("c", "yes Marcus Hale")],
     [(0, "Marcus", "NAME"), (1, "Marcus Hale", "NAME")]),
    ([("a", "who's the account holder?"), ("c", "my husband, Arjun Mehta")], [(1, "Arjun Mehta", "NAME")]),
    # a code read with letters is one number, and its letters no name; an email over two turns, a Swedish domain
    ([("a", "your member number?"), ("c", "K as in King 3 3 9 0 1 7 2 5")],
     [(1, "K as in King 3 3 9 0 1 7 2 5", "NUMBER")]),
    ([("a", "and the policy number"), ("c", "H R T dash 5 5 1 0 9 8 4 2")],
     [(1, "H R T dash 5 5 1 0 9 8 4 2", "NUMBER")]),
    ([("a", "what email should we use"), ("c", "it's lars dot berg"), ("a", "mm-hm"), ("c", "at spray dot se")],
     [(1, "lars dot berg", "EMAIL"), (3, "at spray dot se", "EMAIL")]),
    ([("a", "for security, when did you open the account?"), ("c", "march two thousand and four")],
     [(1, "march two thousand and four", "DATE")]),
    # near-misses: an amount before "way", a shop on a street, a sentence ending "at home."
    ([("c", "the bill was 40 dollars and that's way more than last month")], []),
    ([("a", "the one on Oak Street closes at six")], []),
    ([("c", "I'll print it at home. It works")], []),
    # near-misses: an occupation before a title, an error code, an agent's own number, an email asked "for" something
    ([("a", "我们的工程经理明天上门，语文老师也说了")], []),
    ([("a", "that's error code 4012, so hold the button")], []),
    ([("a", "if anything goes wrong quote my agent number, 55123")], []),
    ([("c", "my number is 88 12 04")], [(0, "88 12 04", "PHONE")]),  # "my number" is the customer's, not staff
    ([("a", "what's the best email for the receipt"), ("c", "p a u l at gmail dot com")],
     [(1, "p a u l at gmail dot com", "EMAIL")]),
    # the word before a spelling, accents and all; spelled letters do not make a reply long
    ([("c", "the table is under muñoz, m u n o z")], [(0, "muñoz", "NAME"), (0, "m u n o z", "NAME")]),
    ([("a", "who is the policy holder"), ("c", "nadia karimova, n a d i a")],
     [(1, "nadia karimova", "NAME"), (1, "n a d i a", "NAME")]),
    ([("a", "the name please"), ("c", "olwen pritchard, though my friends say winnie")],
     [(1, "olwen pritchard", "NAME")]),
    ([("c", "it's in my wife's name, siobhan")], [(0, "siobhan", "NAME")]),
    ([("c", "the cottage is my mum's place")], []),
    ([("c", "hi it's doctor nakamura")], [(0, "nakamura", "NAME")]),
    ([("c", "the doctor said it was fine")], []),
    ([("c", "我的英文名叫lucy"), ("a", "好的lucy，请问有什么可以帮您")], [(0, "lucy", "NAME"), (1, "lucy", "NAME")]),
    ([("c", "付款人是郑，郑州的郑")], [(0, "郑", "NAME"), (0, "郑州的郑", "NAME")]),
    ([("c", "寄到九龙尖沙咀广东道30号")], [(0, "九龙尖沙咀广东道30号", "ADDRESS")]),
    ([("c", "我不知道3号能不能到")], []),
    ([("c", "我的地址是西湖区文三路一百号"), ("a", "哪个省？")], [(0, "西湖区文三路一百号", "ADDRESS")]),
    ([("a", "您这张卡是什么时候办的"), ("c", "二零一九年三月")], [(1, "二零一九年三月", "DATE")]),
    ([("c", "我生日快到了，快递说五月六号发货")], []),
])
def test_personal_data_said_over_turns_is_found(turns, expected):
    utts = [Utterance(i * 5.0, i * 5.0 + 4.0, text, role=Role.AGENT if who == "a" else Role.CUSTOMER, speaker=who)
            for i, (who, text) in enumerate(turns)]
    found = detect(utts)
    assert [(f.utterance, utts[f.utterance].text[f.start:f.end], f.kind.value) for f in found] == expected


_PIECES = [*"0123456789 ,.-abcXYZ一二三幺两号路我叫王李先生", " five ", " oh ", " my name is ", " Smith", "[NAME]"]
_SAYABLE = st.lists(st.sampled_from(_PIECES), max_size=25).map("".join)


@settings(max_examples=300, deadline=None)
@given(st.lists(_SAYABLE, min_size=1, max_size=4))
@example(["0000000号000 0"])  # one word ending in a second span that the next word goes on with
def test_redaction_is_idempotent_keeps_words_and_text_in_step_and_hides_every_span(texts):
    utts = []
    for i, text in enumerate(texts):
        tokens = re.findall(r"\s*\S+", text)
        step = 1.0 / max(len(tokens), 1)
        words = tuple(Word(i + j * step, i + (j + 1) * step, tok, 0.9) for j, tok in enumerate(tokens))
        utts.append(Utterance(float(i), i + 1.0, "".join(w.text for w in words).strip(), role=Role.CUSTOMER,
                              speaker="ch1", words=words))
    call = Transcript(tuple(utts), len(texts) + 1.0, "zh")
    once = redact_transcript(call)
    assert redact_transcript(once.transcript).transcript == once.transcript
    for before, after in zip(call.utterances, once.transcript.utterances, strict=True):
        assert "".join(w.text for w in after.words).strip() == after.text
        assert all(before.start <= w.start <= w.end <= before.end for w in after.words)
    for r in once.redactions:
        text = once.transcript.utterances[r.utterance].text
        assert text[r.char_start: r.char_end] == f"[{r.kind}]"
