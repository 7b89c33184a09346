"""The GE2E voice encoder's input: a 40-channel mel power spectrogram, 25 ms windows every 10 ms.

The same numbers as ``librosa.feature.melspectrogram(y, sr=16000, n_fft=400, hop_length=160,
n_mels=40)``, which Resemblyzer trained with (periodic Hann window, centred frames with zero
padding, Slaney mel scale and area normalisation), in numpy: librosa's import and numba's
compilation cost seconds that a diarization run need not pay. A test compares the two.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

RATE = 16000
N_FFT = 400  # 25 ms
HOP = 160  # 10 ms
N_MELS = 40


def _hz_to_mel(hz: Any) -> Any:
    """Slaney's mel scale: linear below 1 kHz, logarithmic above."""
    import numpy as np

    hz = np.asanyarray(hz, dtype=np.float64)
    mel = hz / (200.0 / 3)
    log_part = hz >= 1000.0
    return np.where(log_part, 15.0 + np.log(np.maximum(hz, 1e-10) / 1000.0) / (np.log(6.4) / 27.0), mel)


def _mel_to_hz(mel: Any) -> Any:
    import numpy as np

    mel = np.asanyarray(mel, dtype=np.float64)
    return np.where(mel >= 15.0, 1000.0 * np.exp((np.log(6.4) / 27.0) * (mel - 15.0)), mel * (200.0 / 3))


@lru_cache(maxsize=4)
def mel_filters(rate: int = RATE, n_fft: int = N_FFT, n_mels: int = N_MELS) -> Any:
    """Triangular filters, ``(n_mels, 1 + n_fft // 2)``, each normalised by its width."""
    import numpy as np

    fft_freqs = np.linspace(0, rate / 2, 1 + n_fft // 2)
    mel_f = _mel_to_hz(np.linspace(_hz_to_mel(0.0), _hz_to_mel(rate / 2), n_mels + 2))
    fdiff = np.diff(mel_f)
    ramps = mel_f[:, None] - fft_freqs[None, :]
    weights = np.zeros((n_mels, len(fft_freqs)))
    for i in range(n_mels):
        lower = -ramps[i] / fdiff[i]
        upper = ramps[i + 2] / fdiff[i + 1]
        weights[i] = np.maximum(0, np.minimum(lower, upper))
    weights *= (2.0 / (mel_f[2 : n_mels + 2] - mel_f[:n_mels]))[:, None]
    return weights.astype(np.float32)


def mel_spectrogram(samples: Any) -> Any:
    """``(frames, 40)`` float32 mel power spectrogram of 16 kHz mono ``samples``; frame ``i`` is
    centred on sample ``i * 160``."""
    import numpy as np

    y = np.asarray(samples, dtype=np.float32)
    padded = np.pad(y, N_FFT // 2)
    n_frames = 1 + (len(padded) - N_FFT) // HOP
    if n_frames <= 0:
        return np.zeros((0, N_MELS), dtype=np.float32)
    window = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)).astype(np.float32)  # periodic Hann
    frames = np.lib.stride_tricks.as_strided(
        padded, shape=(n_frames, N_FFT), strides=(padded.strides[0] * HOP, padded.strides[0])
    )
    power = np.abs(np.fft.rfft(frames * window, axis=1)) ** 2
    return (power.astype(np.float32) @ mel_filters().T).astype(np.float32)
