"""The ``echo`` matcher: the agent repeats back what the customer said (a number, a name, the issue)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from rules.match_base import CallView, Hit, Matcher, Scope

_STOPWORDS = frozenset(
    [
        "about", "after", "again", "also", "and", "any", "are", "because", "been", "before", "being", "but", "can",
        "could", "did", "does", "doing", "done", "for", "from", "get", "got", "had", "has", "have", "having", "her",
        "here", "hers", "him", "his", "how", "into", "its", "just", "know", "let", "like", "look", "make", "may",
        "maybe", "more", "most", "much", "need", "not", "now", "off", "okay", "one", "only", "other", "our", "out",
        "over", "please", "really", "right", "said", "say", "see", "she", "should", "some", "sorry", "sure", "than",
        "thank", "thanks", "that", "the", "their", "them", "then", "there", "these", "they", "thing", "think",
        "this", "those", "through", "today", "too", "very", "want", "was", "way", "well", "were", "what", "when",
        "where", "which", "while", "who", "why", "will", "with", "would", "yeah", "yes", "you", "your", "all",
        "hello", "check", "call", "help", "going", "gonna", "mean"
    ]
)


_FUNCTION_CHARS = frozenset(
    "的了吗呢吧啊呀哦嗯是我你您他她它们这那有在不就也都还要会能可以个一很好对么什怎请谢把被给让跟和与或就"
    "说吧"
)


_LATIN_CONTENT = re.compile(r"(?<![a-z])[a-z]{3,}(?![a-z])|(?<![0-9])[0-9]{2,}(?![0-9])")


_CJK_RUN = re.compile(r"[\u4e00-\u9fff]{2,}")


def content_tokens(norm: str) -> dict[str, tuple[int, int]]:
    """Content tokens of a normalised utterance with where they are: English words of 3+ letters that are
    not function words, numbers of 2+ digits, and Chinese character pairs without a function character."""
    out: dict[str, tuple[int, int]] = {}
    for m in _LATIN_CONTENT.finditer(norm):
        if m.group(0) not in _STOPWORDS:
            out.setdefault(m.group(0), m.span())
    if not norm.isascii():
        for m in _CJK_RUN.finditer(norm):
            run, base = m.group(0), m.start()
            for k in range(len(run) - 1):
                if run[k] not in _FUNCTION_CHARS and run[k + 1] not in _FUNCTION_CHARS:
                    out.setdefault(run[k : k + 2], (base + k, base + k + 2))
    return out


def _cached_tokens(call: CallView, utt: int) -> dict[str, tuple[int, int]]:
    cache = call.content_tokens
    if utt not in cache:
        cache[utt] = content_tokens(call.norm[utt])
    return cache[utt]


MOSTLY_ECHO = 0.75  # share of an utterance's content tokens (numbers count twice) that must be repeated


_ACKNOWLEDGES = re.compile(
    r"\b(?:okay|ok|got it|right|all right|alright|i see|understood|perfect|great|noted|sure|correct|thank you|thanks)\b"
    r"|好的|明白|了解|收到|记下了|没错|对吧|对吗|是吧|是吗|对不对|是不是|谢谢"
)


def _confirms(text: str, norm: str) -> bool:
    """True when an utterance asks for confirmation (ends with a question mark) or acknowledges."""
    return text.rstrip().endswith(("?", "？")) or _ACKNOWLEDGES.search(norm) is not None


def _reads_back_number(call: CallView, i: int, shared: list[str]) -> bool:
    """True when utterance ``i`` repeats a number of 4+ digits (an order, phone or card number, an amount)
    that its speaker had not said before: the other party gave it, the speaker reads it back."""
    numbers = {t for t in shared if t.isdigit() and len(t) >= 4}
    if not numbers:
        return False
    role = call.transcript.utterances[i].role
    for j in range(i):
        if call.transcript.utterances[j].role == role and numbers & _cached_tokens(call, j).keys():
            numbers -= _cached_tokens(call, j).keys()
    return bool(numbers)


class EchoMatcher(Matcher):
    """An utterance that repeats content words of the other party's previous turn (repeating back details).

    It counts shared content tokens (see :func:`content_tokens`); a shared number counts twice, since
    reading back a phone number, an amount or a date is the clearest confirmation there is.
    """

    kind = "echo"

    def __init__(self, min_words: int) -> None:
        self.min_words = min_words

    def find(self, scope: Scope, call: CallView) -> Iterator[Hit]:  # type: ignore[override]
        """Hits one by one, in call order: the engine stops asking once it has enough."""
        utterances = call.transcript.utterances
        for i in scope.indices:
            previous = [j for j in range(i - 1, -1, -1) if call.turns[j] == call.turns[i] - 1]
            if not previous or utterances[previous[0]].role == utterances[i].role:
                continue
            heard: set[str] = set()
            for j in previous:
                heard.update(_cached_tokens(call, j))
            mine = _cached_tokens(call, i)
            shared = [t for t in mine if t in heard]
            weight = sum(2 if t.isdigit() else 1 for t in shared)
            # A read-back asks for confirmation ("…, correct?"), acknowledges ("12 Oak Lane, got it"; "An oil
            # light. Okay.") or is mostly the other party's words. Reusing their words to refuse or contradict
            # them ("I already told you, it's 3,200"; "Delivery was eight days ago") is not repeating back.
            if weight >= self.min_words and (
                weight >= MOSTLY_ECHO * len(mine)
                or _confirms(utterances[i].text, call.norm[i])
                or _reads_back_number(call, i, shared)
            ):
                spans = [mine[t] for t in shared]
                start, end = min(s for s, _ in spans), max(e for _, e in spans)
                yield Hit(i, start, end, "repeats: " + " ".join(shared), round(weight / max(1, len(mine)), 3))
