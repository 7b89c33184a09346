"""Kaldi's log mel filterbank (80 bins) in numpy: CAM++'s input.

The same numbers as Kaldi's ``compute-fbank-feats`` (and ``kaldi_native_fbank``,
``torchaudio.compliance.kaldi.fbank``) with the options 3D-Speaker trained CAM++ with: 25 ms
frames every 10 ms (edges snipped), DC offset removed, pre-emphasis 0.97, Povey window, a
512-point FFT, power spectrum, 80 triangular bins on Kaldi's mel scale from 20 Hz to Nyquist, no
dither, no energy. A test compares it with ``kaldi_native_fbank``.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

RATE = 16000
FRAME = 400  # 25 ms
SHIFT = 160  # 10 ms
N_FFT = 512
N_MELS = 80
LOW_HZ = 20.0
PREEMPHASIS = 0.97


def _mel(hz: Any) -> Any:
    import numpy as np

    return 1127.0 * np.log(1.0 + np.asarray(hz, dtype=np.float64) / 700.0)


@lru_cache(maxsize=2)
def mel_banks(n_mels: int = N_MELS) -> Any:
    """Kaldi's triangular filters ``(n_fft // 2 + 1, n_mels)`` over the power spectrum (the
    Nyquist bin gets no weight, as in Kaldi)."""
    import numpy as np

    n_bins = N_FFT // 2
    mel_low, mel_high = _mel(LOW_HZ), _mel(RATE / 2)
    delta = (mel_high - mel_low) / (n_mels + 1)
    bin_mel = _mel(np.arange(n_bins) * RATE / N_FFT)
    left = mel_low + np.arange(n_mels)[:, None] * delta
    centre, right = left + delta, left + 2 * delta
    up = (bin_mel[None, :] - left) / (centre - left)
    down = (right - bin_mel[None, :]) / (right - centre)
    weights = np.maximum(0.0, np.minimum(up, down))
    out = np.zeros((n_bins + 1, n_mels), dtype=np.float32)
    out[:n_bins] = weights.T
    return out


@lru_cache(maxsize=1)
def povey_window() -> Any:
    import numpy as np

    n = np.arange(FRAME)
    return ((0.5 - 0.5 * np.cos(2 * np.pi * n / (FRAME - 1))) ** 0.85).astype(np.float32)


def fbank(samples: Any) -> Any:
    """``(frames, 80)`` float32 log mel energies of 16 kHz mono ``samples`` (float, any scale)."""
    import numpy as np

    y = np.asarray(samples, dtype=np.float32)
    n_frames = 1 + (len(y) - FRAME) // SHIFT if len(y) >= FRAME else 0
    if n_frames <= 0:
        return np.zeros((0, N_MELS), dtype=np.float32)
    frames = np.lib.stride_tricks.as_strided(y, shape=(n_frames, FRAME), strides=(y.strides[0] * SHIFT, y.strides[0]))
    frames = frames - frames.mean(axis=1, keepdims=True)
    emphasised = np.empty_like(frames)
    emphasised[:, 1:] = frames[:, 1:] - PREEMPHASIS * frames[:, :-1]
    emphasised[:, 0] = frames[:, 0] * (1 - PREEMPHASIS)
    spectrum = np.fft.rfft(emphasised * povey_window(), n=N_FFT, axis=1)
    power = (spectrum.real**2 + spectrum.imag**2).astype(np.float32)
    return np.log(np.maximum(power @ mel_banks(), np.finfo(np.float32).eps)).astype(np.float32)
