"""Speech on ``backend=transformers``, for real, on tiny random models built here:

* a 1-layer Whisper (d_model 32) with the real Whisper tokenizer of the embedded
  ``whisper-tiny.en`` pack, whose decoder is set to a deterministic bigram: after the
  prompt it says ``<|0.00|> hello world <|1.00|>`` (timestamps on) or ``hello world``
  (off), whatever the audio. Random weights would decode nothing, or forever;
* a tiny random VITS with a character vocabulary written here.

Both run through the real runner (``task=asr`` / ``task=tts``) and the real CLI.
"""

from __future__ import annotations

import json
import wave

import numpy as np
import pytest
import soundfile as sf
from conftest import cli

WORDS = ("hello", "world")


# ---- fixtures: the models ----
def build_tiny_whisper(session, out):
    """Save a tiny Whisper that transcribes any audio as "hello world" from 0.00 to 1.00 s.

    The decoder is made a bigram model: its layers add nothing (output projections zero),
    positions add nothing, each token's embedding is a one-hot *state*, and the (untied) output
    projection maps each state to the next token. The generation config is a multilingual
    Whisper's (languages and tasks from the tokenizer), so language= and translate= reach
    ``generate`` as they would on a real checkpoint."""
    import torch
    from transformers import (
        GenerationConfig,
        WhisperConfig,
        WhisperFeatureExtractor,
        WhisperForConditionalGeneration,
        WhisperTokenizerFast,
    )

    tokenizer_file = session.packs.get("whisper-tiny.en").path() / "tokenizer.json"
    specials = [t["content"] for t in json.loads(tokenizer_file.read_text())["added_tokens"]]
    tok = WhisperTokenizerFast(
        tokenizer_file=str(tokenizer_file),
        bos_token="<|endoftext|>",
        eos_token="<|endoftext|>",
        unk_token="<|endoftext|>",
        pad_token="<|endoftext|>",
        extra_special_tokens=specials,
    )
    ids = tok.convert_tokens_to_ids
    eot, sot, nots = ids("<|endoftext|>"), ids("<|startoftranscript|>"), ids("<|notimestamps|>")
    transcribe, translate = ids("<|transcribe|>"), ids("<|translate|>")
    ts0 = nots + 1  # <|0.00|>
    ts1 = ts0 + 50  # <|1.00|> (0.02 s a step)
    lang_to_id = {tok.convert_ids_to_tokens(i): i for i in range(sot + 1, translate)}
    hello, world = (tok.encode(f" {w}", add_special_tokens=False)[0] for w in WORDS)

    # state (a dimension of the embedding) of each token; every other token is state 8
    states = {sot: 0, transcribe: 2, translate: 2, nots: 3, ts0: 4, hello: 5, world: 6, ts1: 7}
    states.update({i: 1 for i in lang_to_id.values()})
    # next-token scores per state
    nexts = {
        0: {ts0: 2.0, lang_to_id["<|en|>"]: 1.0},  # also: language detection says English
        1: {ts0: 2.0},
        2: {ts0: 2.0},
        3: {hello: 2.0},
        4: {hello: 2.0},
        5: {world: 2.0},
        6: {ts1: 2.0, eot: 1.0},  # without timestamps, the end
        7: {eot: 2.0},
        8: {eot: 2.0},
    }

    config = WhisperConfig(
        vocab_size=51864,
        d_model=32,
        encoder_layers=1,
        decoder_layers=1,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=64,
        decoder_ffn_dim=64,
        num_mel_bins=80,
        max_source_positions=1500,
        max_target_positions=448,
        pad_token_id=eot,
        bos_token_id=eot,
        eos_token_id=eot,
        decoder_start_token_id=sot,
        tie_word_embeddings=False,
    )
    torch.manual_seed(0)
    model = WhisperForConditionalGeneration(config).eval()
    with torch.no_grad():
        dec = model.model.decoder
        emb = torch.zeros_like(dec.embed_tokens.weight)
        emb[:, 8] = 4.0
        for token, state in states.items():
            emb[token] = 0.0
            emb[token, state] = 4.0
        dec.embed_tokens.weight.copy_(emb)
        dec.embed_positions.weight.zero_()
        for layer in dec.layers:
            for linear in (layer.self_attn.out_proj, layer.encoder_attn.out_proj, layer.fc2):
                linear.weight.zero_()
                if linear.bias is not None:
                    linear.bias.zero_()
        proj = torch.zeros_like(model.proj_out.weight)
        for state, row in nexts.items():
            for token, score in row.items():
                proj[token, state] = score
        model.proj_out.weight.copy_(proj)
    model.generation_config = GenerationConfig(
        decoder_start_token_id=sot,
        eos_token_id=eot,
        pad_token_id=eot,
        bos_token_id=eot,
        max_length=448,
        no_timestamps_token_id=nots,
        is_multilingual=True,
        lang_to_id=lang_to_id,
        task_to_id={"transcribe": transcribe, "translate": translate},
        max_initial_timestamp_index=50,
        suppress_tokens=[],
        begin_suppress_tokens=[220, eot],
        alignment_heads=[[0, 0], [0, 1]],
    )
    model.save_pretrained(out)
    tok.save_pretrained(out)
    WhisperFeatureExtractor(feature_size=80).save_pretrained(out)
    return out


@pytest.fixture(scope="module")
def tiny_whisper(session, tmp_path_factory):
    return build_tiny_whisper(session, tmp_path_factory.mktemp("tiny-whisper"))


@pytest.fixture(scope="module")
def tiny_vits(tmp_path_factory):
    """A tiny random VITS at 8 kHz with a character vocabulary (no phonemizer)."""
    import torch
    from transformers import VitsConfig, VitsModel, VitsTokenizer

    out = tmp_path_factory.mktemp("tiny-vits")
    chars = ["<pad>", "<unk>", " "] + list("abcdefghijklmnopqrstuvwxyz'.,!?-")
    (out / "vocab.json").write_text(json.dumps({c: i for i, c in enumerate(chars)}))
    tokenizer = VitsTokenizer(str(out / "vocab.json"), language="eng", add_blank=True, normalize=True, phonemize=False)
    config = VitsConfig(
        vocab_size=len(chars),
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        ffn_dim=16,
        flow_size=8,
        spectrogram_bins=9,
        upsample_initial_channel=8,
        upsample_rates=[4, 4],
        upsample_kernel_sizes=[8, 8],
        resblock_kernel_sizes=[3],
        resblock_dilation_sizes=[[1, 3]],
        duration_predictor_filter_channels=8,
        duration_predictor_num_flows=1,
        prior_encoder_num_flows=1,
        prior_encoder_num_wavenet_layers=1,
        posterior_encoder_num_wavenet_layers=1,
        depth_separable_num_layers=1,
        sampling_rate=8000,
        pad_token_id=0,
    )
    torch.manual_seed(0)
    model = VitsModel(config).eval()
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def write_tone(path, seconds: float, rate: int = 16000):
    """A non-silent recording (an amplitude-modulated tone)."""
    t = np.arange(int(seconds * rate)) / rate
    sf.write(
        path, (0.3 * np.sin(2 * np.pi * 220 * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 0.5 * t))).astype("float32"), rate
    )
    return path


@pytest.fixture(scope="module")
def short_wav(tmp_path_factory):
    return write_tone(tmp_path_factory.mktemp("audio") / "short.wav", 5.0)


def asr(run_in_process, model, audio, *extra):
    return run_in_process(
        "task=asr",
        "backend=transformers",
        f"model={model}",
        f"audio={audio}",
        "beam_size=1",
        "backend.threads=1",
        *extra,
    )


# ---- speech to text ----
def test_whisper_transcript_has_timed_segments(run_in_process, tiny_whisper, short_wav, one_torch_thread):
    record, result, run_dir, _ = asr(run_in_process, tiny_whisper, short_wav, "output=[text,json,srt,vtt]")
    assert record["status"] == "ok", record
    assert result.kind == "transcript" and result.text == "hello world"
    assert [(s.start, s.end, s.text) for s in result.segments] == [(0.0, 1.0, "hello world")]
    assert result.language == "en"  # detected (the model's prompt scores say English)
    assert abs(result.duration - 5.0) < 0.01
    assert record["models"][0]["backend"] == "transformers"
    saved = json.loads((run_dir / "asr.json").read_text())
    assert saved["segments"][0]["start"] == 0.0 and saved["segments"][0]["end"] == 1.0
    assert (run_dir / "asr.srt").read_text() == "1\n00:00:00,000 --> 00:00:01,000\nhello world\n"
    assert (run_dir / "asr.vtt").read_text() == "WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nhello world\n"
    assert json.loads((run_dir / "result.json").read_text())["metrics"]["audio_s"] == 5.0


def test_whisper_word_timestamps(run_in_process, tiny_whisper, short_wav, one_torch_thread):
    record, result, _, _ = asr(run_in_process, tiny_whisper, short_wav, "word_timestamps=true")
    assert record["status"] == "ok", record
    words = [w for s in result.segments for w in s.words]
    assert [w.word for w in words] == list(WORDS)
    assert all(0.0 <= w.start <= w.end <= 5.0 for w in words)
    assert words[0].end <= words[1].start + 1e-6  # in order


def test_whisper_language_and_translate_reach_generate(
    run_in_process, tiny_whisper, short_wav, one_torch_thread, monkeypatch
):
    from transformers import WhisperForConditionalGeneration

    seen = []
    original = WhisperForConditionalGeneration.generate

    def spy(self, *args, **kwargs):
        seen.append({k: kwargs.get(k) for k in ("language", "task", "num_beams")})
        return original(self, *args, **kwargs)

    monkeypatch.setattr(WhisperForConditionalGeneration, "generate", spy)
    record, result, _, _ = run_in_process(
        "task=asr",
        "backend=transformers",
        f"model={tiny_whisper}",
        f"audio={short_wav}",
        "language=de",
        "translate=true",
        "beam_size=2",
    )
    assert record["status"] == "ok", record
    assert seen and all(s == {"language": "de", "task": "translate", "num_beams": 2} for s in seen), seen
    assert result.language == "de" and result.text == "hello world"


def test_long_audio_is_chunked(run_in_process, tiny_whisper, tmp_path, one_torch_thread):
    """70 s: the pipeline decodes 30 s windows; the transcript covers the whole file, in order."""
    audio = write_tone(tmp_path / "long.flac", 70.0)
    record, result, run_dir, _ = asr(run_in_process, tiny_whisper, audio, "output=[json,srt]")
    assert record["status"] == "ok", record
    assert abs(result.duration - 70.0) < 0.01 and "hello world" in result.text
    assert result.segments
    spans = [(s.start, s.end) for s in result.segments]
    assert all(0.0 <= a <= b <= 70.0 for a, b in spans), spans
    assert all(spans[i][0] <= spans[i + 1][0] for i in range(len(spans) - 1)), spans
    assert (run_dir / "asr.srt").read_text().startswith("1\n00:00:")
    # word timestamps: the words are grouped into subtitle-sized segments, not one 70 s cue
    record, result, run_dir, _ = asr(run_in_process, tiny_whisper, audio, "word_timestamps=true", "output=srt")
    assert record["status"] == "ok", record
    words = [w for s in result.segments for w in s.words]
    assert [w.word for w in words] == [*WORDS] * (len(words) // 2) and len(words) >= 2
    assert all(0.0 <= w.start <= w.end <= 70.0 for w in words)
    assert all(s.end - s.start <= 10.0 for s in result.segments) and len(result.segments) >= 2
    assert (run_dir / "asr.srt").read_text().count(" --> ") == len(result.segments)


def test_unload_frees_the_pipeline(run_in_process, tiny_whisper, short_wav, one_torch_thread, monkeypatch):
    from taskdeck.plugins.backends.hf_transformers import speech

    loaded = []
    original = speech.load

    def spy(backend, *args, **kwargs):
        loaded.append(backend)
        return original(backend, *args, **kwargs)

    monkeypatch.setattr(speech, "load", spy)
    record, _, _, _ = asr(run_in_process, tiny_whisper, short_wav)
    assert record["status"] == "ok" and len(loaded) == 1
    assert not hasattr(loaded[0], "speech_pipeline") and not hasattr(loaded[0], "hf_model")


def test_long_audio_split_by_the_task_shifts_times(run_in_process, tiny_whisper, tmp_path, one_torch_thread):
    """chunk_s=20 on 15 s of sound, 1 s of silence, 15 s, 1 s, 15 s: the task cuts in the
    silences, and each piece's segment (0-1 s of the piece) is moved to the piece's offset."""
    rate = 16000
    sound = (0.3 * np.sin(2 * np.pi * 220 * np.arange(15 * rate) / rate)).astype("float32")
    gap = np.zeros(rate, dtype="float32")
    audio = tmp_path / "gaps.wav"
    sf.write(audio, np.concatenate([sound, gap, sound, gap, sound]), rate)
    record, result, _, _ = asr(run_in_process, tiny_whisper, audio, "chunk_s=20")
    assert record["status"] == "ok", record
    spans = [(s.start, s.end) for s in result.segments]
    assert len(spans) == 3 and spans[0] == (0.0, 1.0), spans
    for (start, end), gap_start in zip(spans[1:], (15.0, 31.0)):
        assert gap_start <= start <= gap_start + 1.0 and abs(end - start - 1.0) < 1e-6, spans
    assert result.text == " ".join(["hello world"] * 3)
    assert abs(result.duration - 47.0) < 0.01


def test_asr_through_the_cli(tiny_whisper, short_wav, tmp_path):
    proc = cli(
        "task=asr",
        "backend=transformers",
        f"model={tiny_whisper}",
        f"audio={short_wav}",
        "beam_size=1",
        "output=[text,srt]",
        tmp_path=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "hello world"
    assert proc.stderr.strip() == ""  # no pipeline caveats or generate notices
    assert (tmp_path / "run" / "asr.srt").read_text().startswith("1\n00:00:00,000 --> 00:00:01,000\n")


def test_silent_audio_is_one_line_before_loading(run_in_process, tiny_whisper, tmp_path):
    from taskdeck import InputError

    audio = tmp_path / "silence.wav"
    sf.write(audio, np.zeros(16000, dtype="float32"), 16000)
    with pytest.raises(InputError, match="silent") as caught:
        asr(run_in_process, tiny_whisper, audio)
    assert "\n" not in str(caught.value)


@pytest.fixture(scope="module")
def tiny_whisper_en(tiny_whisper, tmp_path_factory):
    """The same model declared English-only, as ``*.en`` checkpoints are."""
    import shutil

    out = tmp_path_factory.mktemp("tiny-whisper-en") / "model"
    shutil.copytree(tiny_whisper, out)
    config = json.loads((out / "generation_config.json").read_text())
    config.update(is_multilingual=False)
    config.pop("lang_to_id", None)
    config.pop("task_to_id", None)
    (out / "generation_config.json").write_text(json.dumps(config))
    return out


def test_english_only_model(run_in_process, tiny_whisper_en, short_wav, one_torch_thread):
    from taskdeck import ConfigError

    record, result, _, _ = asr(run_in_process, tiny_whisper_en, short_wav)
    assert record["status"] == "ok" and result.text == "hello world" and result.language == "en", record
    record, result, _, _ = asr(run_in_process, tiny_whisper_en, short_wav, "language=en")
    assert record["status"] == "ok" and result.language == "en", record
    for extra, needle in (("language=de", "English-only"), ("translate=true", "cannot translate")):
        with pytest.raises(ConfigError, match=needle) as caught:
            asr(run_in_process, tiny_whisper_en, short_wav, extra)
        assert "\n" not in str(caught.value)


def test_unknown_language_is_one_line(run_in_process, tiny_whisper, short_wav, one_torch_thread):
    from taskdeck import ConfigError

    with pytest.raises(ConfigError, match="does not know language 'xx'") as caught:
        asr(run_in_process, tiny_whisper, short_wav, "language=xx")
    assert "\n" not in str(caught.value) and "de" in str(caught.value)
    record, result, _, _ = asr(run_in_process, tiny_whisper, short_wav, "language=German")
    assert record["status"] == "ok" and result.language == "de"  # a name is taken as its code


# ---- text to speech ----
def tts(run_in_process, model, *extra):
    return run_in_process("task=tts", "backend=transformers", f"model={model}", "backend.threads=1", *extra)


def wav_info(path):
    with wave.open(str(path), "rb") as w:
        return w.getframerate(), w.getnframes(), w.getnchannels()


def test_vits_writes_a_wav_at_the_models_rate(run_in_process, tiny_vits, one_torch_thread):
    record, result, run_dir, _ = tts(run_in_process, tiny_vits, "text='Hello there. How are you?'")
    assert record["status"] == "ok", record
    rate, frames, channels = wav_info(run_dir / "tts.wav")
    assert rate == 8000 == result.sample_rate and channels == 1 and frames == len(result.samples) > 0
    saved = json.loads((run_dir / "result.json").read_text())
    assert saved["result"]["sample_rate"] == 8000
    assert saved["result"]["duration_s"] == round(frames / 8000, 3) > 0
    assert saved["metrics"]["audio_s"] > 0 and saved["metrics"]["characters"] == len("Hello there. How are you?")


def test_vits_length_scale_sets_the_pace(run_in_process, tiny_vits, one_torch_thread):
    durations = {}
    for scale in (1.0, 2.0):
        record, result, _, _ = tts(run_in_process, tiny_vits, "text='hello there'", f"length_scale={scale}")
        assert record["status"] == "ok", record
        durations[scale] = result.duration
    assert 1.6 < durations[2.0] / durations[1.0] < 2.4, durations


def test_vits_same_seed_same_audio(run_in_process, tiny_vits, one_torch_thread):
    runs = [tts(run_in_process, tiny_vits, "text='hello there'", f"seed={s}")[1].samples for s in (1, 1, 2)]
    assert np.array_equal(runs[0], runs[1])
    assert not np.array_equal(runs[0], runs[2]) or len(runs[0]) != len(runs[2])
