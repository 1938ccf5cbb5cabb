"""Synthetic five-minute service calls (English and Mandarin) with word times and probabilities, for benchmarks.

Built from a small pool of service sentences, ~300 s and ~100 utterances each; the same seed gives the same calls.
"""

from __future__ import annotations

import random

from core.types import Role, Transcript, Utterance, Word

_AGENT = {
    "en": ["Okay, let me pull up your account.", "I see, can you tell me when that started?",
           "Sure, I can help you with that today.", "Got it, the order was shipped on Monday.",
           "Just to confirm, your phone number is 555 0199?", "I understand how frustrating that is.",
           "The technician will come between eight and twelve.", "Your balance is forty two dollars.",
           "Can you hold for a moment while I check?", "Thank you for holding, I found it.",
           "We can send a replacement at no cost.", "That should be fixed within two business days.",
           "Is the light on the router green or red?", "Please restart the router and wait one minute."],
    "zh": ["好的，我帮您查询一下。", "嗯，请问是什么时候开始的？", "明白，您的订单周一已经发货了。",
           "跟您确认一下，您的手机号是13812345678对吗？", "非常理解您的心情，我马上帮您处理。",
           "师傅会在上午八点到十二点之间上门。", "您的余额是四十二元。", "请您稍等，我帮您查一下。",
           "感谢您的耐心等待，已经查到了。", "我们可以免费给您换一个新的。", "两个工作日内会处理好的。",
           "请问路由器的灯是绿色还是红色？", "麻烦您重启一下路由器，等一分钟。"],
}  # fmt: skip


_CUSTOMER = {
    "en": ["My internet keeps dropping every evening.", "I was charged twice for the same order.",
           "It started last Tuesday I think.", "Yes, that's right.", "The light is red and blinking.",
           "Okay, I'll try that now.", "Can you send someone tomorrow?", "No, that's all, thanks.",
           "I already restarted it twice.", "How long will the refund take?"],
    "zh": ["我家宽带每天晚上都断。", "同一个订单扣了我两次钱。", "好像是上周二开始的。", "对，没错。",
           "灯是红色的，一直在闪。", "好的，我现在试一下。", "明天能派人来吗？", "没有了，谢谢。",
           "我已经重启过两次了。", "退款要多久到账？"],
}  # fmt: skip


_OPEN = {"en": "Thank you for calling Northwind, this is Sarah. How can I help you today?",
         "zh": "您好，很高兴为您服务，我是工号1024，请问有什么可以帮您？"}  # fmt: skip


_CLOSE = {"en": "Is there anything else I can help you with? Thank you for calling, have a great day.",
          "zh": "请问还有什么可以帮您？感谢您的来电，祝您生活愉快，再见。"}  # fmt: skip


def _utterance(rng: random.Random, text: str, role: Role, start: float, language: str) -> Utterance:
    tokens = text.split() if language == "en" else [text[i : i + 2] for i in range(0, len(text), 2)]
    step = 0.35 if language == "en" else 0.45
    words = []
    for k, token in enumerate(tokens):
        words.append(Word(round(start + k * step, 2), round(start + (k + 1) * step - 0.05, 2), token,
                          round(rng.uniform(0.6, 1.0), 3)))  # fmt: skip
    confidence = sum(w.probability for w in words) / len(words)
    return Utterance(start, words[-1].end, text, role, role_confidence=0.9, confidence=confidence, words=tuple(words))


def synthetic_call(rng: random.Random, language: str = "en", seconds: float = 300.0) -> Transcript:
    """A call of about ``seconds`` with alternating agent and customer turns, word times and probabilities."""
    utterances = [_utterance(rng, _OPEN[language], Role.AGENT, 0.5, language)]
    role = Role.CUSTOMER
    while utterances[-1].end < seconds - 10:
        pool = _CUSTOMER[language] if role is Role.CUSTOMER else _AGENT[language]
        utterances.append(_utterance(rng, rng.choice(pool), role, utterances[-1].end + rng.uniform(0.3, 1.5), language))
        role = Role.AGENT if role is Role.CUSTOMER else Role.CUSTOMER
    utterances.append(_utterance(rng, _CLOSE[language], Role.AGENT, utterances[-1].end + 0.5, language))
    return Transcript(tuple(utterances), utterances[-1].end + 1.0, language)
