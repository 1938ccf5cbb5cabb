"""``callqa eval``: measure callqa's classifiers on labelled data.

``callqa eval emotion FILE`` reads a CSV with the header ``text,language,label`` (optional ``split``; optional
``audio,start,end`` — a recording, relative to the CSV, and the utterance's seconds in it — and ``channel``),
classifies every row with the emotion stage and prints per-class precision/recall/F1, macro-F1, anger precision
and recall, and a confusion matrix, for all rows and per language. Rows with audio get voice arousal: the rows
of one recording (and ``speaker_role``, if given) are one speaker, whose median is the baseline.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from rich.console import Console
from rich.table import Table

from core.errors import CallQAError
from models.emotion import LABELS, TextEmotionModel
from pipeline.acoustics import ANALYSIS_RATE, Arousal, VoiceFeatures, arousal_scores, to_analysis_rate, voice_features
from pipeline.emotion import EmotionOptions, TextEmotion, classify_texts, default_text_model, load_lexicon
from pipeline.metrics import speech_units

app = typer.Typer(help="Evaluate callqa's classifiers on labelled data.", no_args_is_help=True,
                  pretty_exceptions_enable=False, add_completion=False)
console = Console()
err = Console(stderr=True)

REQUIRED = ("text", "language", "label")
AUDIO = ("audio", "start", "end")
LANGS = ("zh", "en")
SPLITS = ("tune", "test")


@app.callback()
def _group() -> None:
    """Evaluate callqa's classifiers on labelled data (a group, even while it has one command)."""


class EvalDataError(CallQAError):
    """A labelled file that cannot be evaluated; the message names the file, line and column."""


@dataclass(frozen=True, slots=True)
class LabelledRow:
    """One labelled utterance (``where``: file:line; ``fields``: every column, for the output)."""

    where: str  # file:line
    text: str
    language: str
    label: str
    split: str
    audio: Path | None
    start: float
    end: float
    channel: int
    speaker: str
    fields: tuple[tuple[str, str], ...]


def read_labelled(path: Path) -> tuple[tuple[str, ...], tuple[LabelledRow, ...]]:
    """Read and check a labelled CSV; returns its header and rows.

    Raises:
        EvalDataError: the file is unreadable, lacks a column, or a cell is invalid (names file:line:column).
    """
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            reader = csv.DictReader(f)
            header = tuple(h.strip() for h in reader.fieldnames or ())
            missing = [c for c in REQUIRED if c not in header]
            if missing:
                found = ",".join(header) if header else "nothing"
                raise EvalDataError(f"{path}:1: missing column(s) {', '.join(missing)}; the header must name "
                                    f"text,language,label (found {found})")
            has_audio = [c for c in AUDIO if c in header]
            if has_audio and len(has_audio) != len(AUDIO):
                raise EvalDataError(f"{path}:1: audio needs the columns audio,start,end together (found "
                                    f"{','.join(has_audio)})")
            rows = tuple(_row(path, reader.line_num, {k.strip(): (v or "").strip() for k, v in raw.items() if k})
                         for raw in reader)
    except OSError as exc:
        raise EvalDataError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except (csv.Error, UnicodeDecodeError) as exc:
        raise EvalDataError(f"{path}: not a readable UTF-8 CSV: {exc}") from exc
    if not rows:
        raise EvalDataError(f"{path}: no rows below the header")
    return header, rows


def _row(path: Path, line: int, raw: dict[str, str]) -> LabelledRow:
    def bad(column: str, why: str) -> EvalDataError:
        return EvalDataError(f"{path}:{line}: column '{column}': {why}")

    if not raw.get("text"):
        raise bad("text", "empty; write the utterance or remove the row")
    label, lang, split = raw["label"].lower(), raw["language"].lower(), raw.get("split", "").lower()
    if label not in LABELS:
        raise bad("label", f"unknown label {raw['label']!r}; use one of {', '.join(LABELS)}")
    if lang not in LANGS:
        raise bad("language", f"unknown language {raw['language']!r}; use zh or en")
    if "split" in raw and split not in SPLITS:
        raise bad("split", f"unknown split {raw['split']!r}; use tune or test")
    audio, start, end, channel = None, 0.0, 0.0, 0
    if raw.get("audio"):
        audio = (path.parent / raw["audio"]).resolve()
        if not audio.is_file():
            raise bad("audio", f"no such file {raw['audio']!r} (paths are relative to the CSV)")
        start, end = _seconds(raw, "start", bad), _seconds(raw, "end", bad)
        if end <= start:
            raise bad("end", f"must be after start ({start:g} s), got {end:g} s")
        channel = _whole(raw.get("channel") or "0", bad)
    return LabelledRow(f"{path}:{line}", raw["text"], lang, label, split, audio, start, end, channel,
                       raw.get("speaker_role", ""), tuple(raw.items()))


def _seconds(raw: dict[str, str], column: str, bad: Callable[[str, str], EvalDataError]) -> float:
    try:
        value = float(raw.get(column, ""))
    except ValueError:
        raise bad(column, f"must be seconds (a number), got {raw.get(column)!r}") from None
    if not (math.isfinite(value) and value >= 0):
        raise bad(column, f"must be seconds >= 0, got {value!r}")
    return value


def _whole(text: str, bad: Callable[[str, str], EvalDataError]) -> int:
    if not text.isdigit():
        raise bad("channel", f"must be a channel number (0, 1, ...), got {text!r}")
    return int(text)


def row_arousal(rows: Sequence[LabelledRow], options: EmotionOptions) -> list[Arousal | None] | None:
    """Voice arousal of the rows with audio (None for the others); None when no row has audio."""
    if not any(r.audio for r in rows):
        return None
    from pipeline.audio import SAMPLE_RATE, decode

    channels: dict[tuple[Path, int], np.ndarray] = {}
    features: list[VoiceFeatures | None] = []
    for r in rows:
        if r.audio is None:
            features.append(None)
            continue
        key = (r.audio, r.channel)
        if key not in channels:
            decoded = decode(r.audio, max_duration_s=None)
            if r.channel >= len(decoded.channels):
                raise EvalDataError(f"{r.where}: column 'channel': {r.audio.name} has "
                                    f"{len(decoded.channels)} channel(s), not {r.channel + 1}")
            channels[key] = to_analysis_rate(decoded.channels[r.channel], SAMPLE_RATE)
        piece = channels[key][int(r.start * ANALYSIS_RATE): int(r.end * ANALYSIS_RATE)]
        features.append(voice_features(piece, speech_units(r.text), r.end - r.start, options.acoustics))
    speakers = [(r.audio, r.channel, r.speaker) for r in rows]
    return arousal_scores(features, speakers, options.acoustics)


def predict(rows: Sequence[LabelledRow], model: TextEmotionModel, options: EmotionOptions) -> tuple[TextEmotion, ...]:
    """The emotion stage's verdict on every row (with voice arousal where the row has audio)."""
    arousal = row_arousal(rows, options)
    return classify_texts([r.text for r in rows], model, load_lexicon(options.lexicon), options, arousal)


@dataclass(frozen=True, slots=True)
class Scores:
    """Evaluation of predictions against gold labels."""

    n: int
    precision: tuple[float, ...]  # per class, LABELS order
    recall: tuple[float, ...]
    f1: tuple[float, ...]
    support: tuple[int, ...]
    confusion: tuple[tuple[int, ...], ...]  # [gold][predicted]
    anger_precision: float  # of the angry label
    anger_recall: float
    flag_precision: float  # of anger >= threshold
    flag_recall: float

    @property
    def macro_f1(self) -> float:
        return float(np.mean(self.f1))


def score(gold: Sequence[str], predicted: Sequence[TextEmotion], threshold: float) -> Scores:
    """Per-class and anger figures of ``predicted`` against ``gold``."""
    g = np.array([LABELS.index(x) for x in gold], dtype=int)
    p = np.array([LABELS.index(x.label) for x in predicted], dtype=int)
    conf = np.zeros((len(LABELS), len(LABELS)), dtype=int)
    np.add.at(conf, (g, p), 1)
    tp = np.diag(conf).astype(float)
    prec = np.divide(tp, conf.sum(axis=0), out=np.zeros(len(LABELS)), where=conf.sum(axis=0) > 0)
    rec = np.divide(tp, conf.sum(axis=1), out=np.zeros(len(LABELS)), where=conf.sum(axis=1) > 0)
    f1 = np.divide(2 * prec * rec, prec + rec, out=np.zeros(len(LABELS)), where=(prec + rec) > 0)
    flag = np.array([x.anger >= threshold for x in predicted], dtype=bool)
    angry = g == 0
    return Scores(
        n=len(g), precision=tuple(prec.round(4)), recall=tuple(rec.round(4)), f1=tuple(f1.round(4)),
        support=tuple(int(s) for s in conf.sum(axis=1)), confusion=tuple(tuple(int(v) for v in r) for r in conf),
        anger_precision=float(prec[0].round(4)), anger_recall=float(rec[0].round(4)),
        flag_precision=round(float((flag & angry).sum() / flag.sum()) if flag.any() else 0.0, 4),
        flag_recall=round(float((flag & angry).sum() / angry.sum()) if angry.any() else 0.0, 4),
    )


def _print_scores(title: str, s: Scores, threshold: float) -> None:
    table = Table(title=f"{title}: {s.n} rows, macro-F1 {s.macro_f1:.3f}", title_justify="left")
    for col in ("class", "precision", "recall", "F1", "rows"):
        table.add_column(col, justify="left" if col == "class" else "right")
    for i, label in enumerate(LABELS):
        table.add_row(label, f"{s.precision[i]:.3f}", f"{s.recall[i]:.3f}", f"{s.f1[i]:.3f}", str(s.support[i]))
    console.print(table)
    console.print(f"anger: label 'angry' precision {s.anger_precision:.3f} recall {s.anger_recall:.3f}; "
                  f"anger >= {threshold:g} precision {s.flag_precision:.3f} recall {s.flag_recall:.3f}")
    matrix = Table(title="confusion (rows: label, columns: predicted)", title_justify="left")
    matrix.add_column("")
    for label in LABELS:
        matrix.add_column(label, justify="right")
    for label, row in zip(LABELS, s.confusion, strict=True):
        matrix.add_row(label, *(str(v) for v in row))
    console.print(matrix)


def write_predictions(out: Path, header: Sequence[str], rows: Sequence[LabelledRow],
                      predicted: Sequence[TextEmotion]) -> None:
    """Each row as read, plus the predicted label, confidence, anger, fused probabilities, arousal and cues."""
    extra = ["predicted", "confidence", "anger", *(f"p_{c}" for c in LABELS), "arousal", "cues"]
    with out.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow([*header, *extra])
        for r, x in zip(rows, predicted, strict=True):
            cells = dict(r.fields)
            writer.writerow([*(cells.get(h, "") for h in header), x.label, f"{x.confidence:.4f}", f"{x.anger:.4f}",
                             *(f"{v:.4f}" for v in x.scores.as_tuple()),
                             "" if x.arousal is None else f"{x.arousal:.3f}", "; ".join(x.cues)])


@app.command("emotion")
def emotion(
    file: Annotated[Path, typer.Argument(help="Labelled CSV: text,language,label[,split][,audio,start,end].")],
    predictions: Annotated[Path | None, typer.Option(help="Write every row with its prediction to this CSV.")] = None,
    split: Annotated[str | None, typer.Option(help="tune, test or all (default: test if the file has a split "
                                                   "column, else all).")] = None,
    text_model: Annotated[str, typer.Option(help="A local transformers text-classification model directory "
                                                 "(default: the packaged prototype model).")] = "",
    prototypes: Annotated[list[Path] | None, typer.Option(help="Extra prototype CSV (repeatable).")] = None,
    lexicon: Annotated[str, typer.Option(help="A lexicon YAML replacing the packaged one.")] = "",
) -> None:
    """Evaluate the emotion stage on a labelled CSV: per-class P/R/F1, anger P/R, confusion, per language."""
    try:
        header, rows = read_labelled(file)
        chosen = split or ("test" if "split" in header else "all")
        if chosen not in (*SPLITS, "all"):
            raise EvalDataError(f"--split: use tune, test or all, not {chosen!r}")
        if chosen != "all":
            if "split" not in header:
                raise EvalDataError(f"{file}: has no split column; use --split all")
            rows = tuple(r for r in rows if r.split == chosen)
        options = replace(EmotionOptions(), text_model=text_model, lexicon=lexicon,
                          prototypes=tuple(str(p) for p in prototypes or ()))
        model = default_text_model(options.text_model, options.label_map, options.prototypes)
        predicted = predict(rows, model, options)
    except CallQAError as exc:
        err.print(f"[bold red]error:[/bold red] {exc}", highlight=False)
        raise typer.Exit(1) from exc
    console.print(f"{file}: {len(rows)} rows (split {chosen}); model {model.info.name}", highlight=False)
    threshold = options.angry_threshold
    _print_scores("all", score([r.label for r in rows], predicted, threshold), threshold)
    for lang in LANGS:
        mine = [i for i, r in enumerate(rows) if r.language == lang]
        if mine:
            _print_scores(lang, score([rows[i].label for i in mine], [predicted[i] for i in mine], threshold),
                          threshold)
    if predictions:
        write_predictions(predictions, header, rows, predicted)
        console.print(f"predictions: {predictions}", highlight=False)
