"""task=translation: NLLB-style, T5 and Marian models equal to raw generate, language codes,
long texts chunked with their line breaks kept, the chat default."""

import pytest
from conftest import cli, text_arg

# The chat models answer the same with 1 thread, and much faster on a busy machine
# (llama.cpp's threads spin-wait: 2 threads on 2 shared cores can be 5x slower).
CHAT = ("backend.threads=1",)
#: Training text for the tiny NLLB tokenizer (a real BPE, trained here).
CORPUS = [
    "The city council met on Monday to discuss the new bike lanes.",
    "Good morning, how are you? I am fine, thank you.",
    "Bonjour, comment allez-vous ? Je vais bien, merci.",
    "Guten Morgen, wie geht es Ihnen? Mir geht es gut, danke.",
    "Le conseil municipal s'est réuni lundi pour discuter des nouvelles pistes cyclables.",
    "Prices rose by 3 percent in May, the statistics office said on Tuesday.",
    "The library will close for renovation in March and reopen in September.",
]


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _save(model, tokenizer, path):
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


@pytest.fixture(scope="module")
def tiny_nllb(tmp_path_factory):
    """A tiny random NLLB (M2M100 architecture, as facebook/nllb-200 is) with a real NLLB
    tokenizer: a BPE trained here, the 202 FLORES-200 language codes as special tokens, and
    a 64-token window so long texts are chunked."""
    import json

    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import M2M100Config, M2M100ForConditionalGeneration, NllbTokenizer

    bpe = Tokenizer(models.BPE(unk_token="<unk>"))
    bpe.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    alphabet = list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,;:!?'-()\"éèàçêô")
    bpe.train_from_iterator(
        CORPUS * 5,
        trainers.BpeTrainer(
            vocab_size=600, initial_alphabet=alphabet, special_tokens=["<s>", "<pad>", "</s>", "<unk>"]
        ),
    )
    learned = json.loads(bpe.to_str())["model"]
    merges = [tuple(m) if isinstance(m, list) else tuple(m.split(" ")) for m in learned["merges"]]
    tokenizer = NllbTokenizer(vocab=learned["vocab"], merges=merges)
    config = M2M100Config(
        vocab_size=len(tokenizer),
        d_model=32,
        encoder_layers=2,
        decoder_layers=2,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=64,
        decoder_ffn_dim=64,
        max_position_embeddings=64,
        init_std=0.3,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        decoder_start_token_id=tokenizer.eos_token_id,
    )
    torch.manual_seed(0)
    return _save(M2M100ForConditionalGeneration(config).eval(), tokenizer, tmp_path_factory.mktemp("tiny-nllb"))


@pytest.fixture(scope="module")
def wordpiece(session):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(
        session.packs.get("all-minilm-l6-v2").path(), model_input_names=["input_ids", "attention_mask"]
    )


@pytest.fixture(scope="module")
def tiny_t5(tmp_path_factory, wordpiece):
    """A tiny random T5 whose config lists translation prefixes, as t5-small's does."""
    import torch
    from transformers import T5Config, T5ForConditionalGeneration

    tok = wordpiece
    config = T5Config(
        vocab_size=len(tok),
        d_model=32,
        d_kv=16,
        d_ff=64,
        num_layers=2,
        num_heads=2,
        initializer_factor=0.3,
        pad_token_id=tok.pad_token_id,
        eos_token_id=tok.sep_token_id,
        decoder_start_token_id=tok.pad_token_id,
        task_specific_params={
            "translation_en_to_fr": {"prefix": "translate English to French: "},
            "translation_en_to_de": {"prefix": "translate English to German: "},
        },
    )
    torch.manual_seed(0)
    return _save(T5ForConditionalGeneration(config).eval(), tok, tmp_path_factory.mktemp("tiny-t5"))


@pytest.fixture(scope="module")
def tiny_marian(tmp_path_factory, wordpiece):
    """A tiny random Marian model in a folder named like its Hub id, opus-mt-en-fr (a WordPiece
    tokenizer stands in for Marian's SentencePiece one, which needs sentencepiece)."""
    import torch
    from transformers import MarianConfig, MarianMTModel

    tok = wordpiece
    config = MarianConfig(
        vocab_size=len(tok),
        d_model=32,
        encoder_layers=2,
        decoder_layers=2,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=64,
        decoder_ffn_dim=64,
        max_position_embeddings=64,
        init_std=0.3,
        pad_token_id=tok.pad_token_id,
        eos_token_id=tok.sep_token_id,
        decoder_start_token_id=tok.pad_token_id,
    )
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("marian") / "opus-mt-en-fr"
    return _save(MarianMTModel(config).eval(), tok, path)


def raw_translation(path, text, src_lang=None, tgt_lang=None, **gen):
    """The reference: tokenizer → model.generate → decode, with nothing of taskdeck."""
    import torch
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModelForSeq2SeqLM.from_pretrained(path).eval()
    if src_lang:
        tokenizer.src_lang = src_lang
    if tgt_lang:
        gen["forced_bos_token_id"] = tokenizer.convert_tokens_to_ids(tgt_lang)
    inputs = tokenizer(text, return_tensors="pt")
    with torch.inference_mode():
        out = model.generate(**inputs, **gen)
    return tokenizer.decode(out[0], skip_special_tokens=True).strip()


# ---- NLLB: language codes ----
@pytest.mark.parametrize("langs,beams", [(("English", "French"), 1), (("eng_Latn", "fra_Latn"), 3), (("en", "fr"), 1)])
def test_nllb_translation_equals_raw_generate(run_in_process, tiny_nllb, langs, beams):
    text = "The city council met on Monday."
    record, result, _, _ = run_in_process(
        "task=translation",
        text_arg(text),
        f"model={tiny_nllb}",
        f"source={langs[0]}",
        f"target={langs[1]}",
        "max_new_tokens=8",
        f"num_beams={beams}",
    )
    expected = raw_translation(tiny_nllb, text, "eng_Latn", "fra_Latn", max_new_tokens=8, num_beams=beams)
    assert expected and result.text == expected
    assert result.method == "seq2seq (eng_Latn -> fra_Latn)" and record["metrics"]["chunks"] == 1


def test_long_text_is_chunked_by_sentence_and_keeps_its_lines(run_in_process, tiny_nllb):
    """Each line is translated on its own; a line longer than the 64-token window is cut into
    sentence chunks whose translations are joined: the result equals doing that by hand."""
    from transformers import AutoTokenizer

    from taskdeck.helpers.text_chunks import chunk_sentences, split_sentences

    lines = ["Good morning, how are you?", " ".join(CORPUS), "Thank you."]
    text = "\n".join(lines)
    record, result, _, _ = run_in_process(
        "task=translation",
        text_arg(text),
        f"model={tiny_nllb}",
        "source=English",
        "target=German",
        "max_new_tokens=8",
        "num_beams=1",
    )
    tok = AutoTokenizer.from_pretrained(tiny_nllb)
    tok.src_lang = "eng_Latn"
    count = lambda t: len(tok(t)["input_ids"])  # noqa: E731
    assert count(lines[1]) > 64
    chunks = chunk_sentences(split_sentences(lines[1]), count, 64)
    assert len(chunks) > 1 and " ".join(chunks) == lines[1]

    def tr(t):
        return raw_translation(tiny_nllb, t, "eng_Latn", "deu_Latn", max_new_tokens=8, num_beams=1)

    expected = "\n".join([tr(lines[0]), " ".join(x for x in map(tr, chunks) if x), tr(lines[2])]).strip()
    assert result.text == expected
    assert record["metrics"]["chunks"] == len(chunks) + 2 and f"{len(chunks) + 2} chunks" in result.method


def test_unknown_language_code_is_one_line_with_near_matches(tmp_path, tiny_nllb):
    # The codes are the tokenizer's, so this error comes after the model loaded: silence
    # transformers' "Loading weights" bar, which is not taskdeck's to control.
    proc = cli(
        "task=translation",
        "text=Hello.",
        f"model={tiny_nllb}",
        "source=English",
        "target=fra_Latm",
        tmp_path=tmp_path,
        env={"HF_HUB_DISABLE_PROGRESS_BARS": "1"},
    )
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert proc.stderr.startswith("error: unknown target language 'fra_Latm' for this model; near matches: fra_Latn")


def test_multilingual_model_needs_a_source(run_in_process, tiny_nllb):
    from taskdeck import InputError

    with pytest.raises(InputError, match="source= is needed for this multilingual model"):
        run_in_process("task=translation", "text=Hello.", f"model={tiny_nllb}", "target=French")


def test_language_names_and_codes_map_to_each_model_family():
    from taskdeck import InputError
    from taskdeck.plugins.tasks.translation import language_name, model_code

    assert model_code("French", ["eng_Latn", "fra_Latn"], "target") == "fra_Latn"
    assert model_code("fr", ["eng_Latn", "fra_Latn"], "target") == "fra_Latn"
    assert model_code("french", ["en", "fr", "de"], "target") == "fr"  # M2M100
    assert model_code("German", ["en_XX", "de_DE", "fr_XX"], "target") == "de_DE"  # mBART-50
    assert model_code("FRA_LATN", ["fra_Latn"], "target") == "fra_Latn"
    with pytest.raises(InputError, match="near matches: fr"):
        model_code("fre", ["en", "fr", "de"], "target")
    assert language_name("fra_Latn") == "French" and language_name("de") == "German"
    assert language_name("Klingon") == "Klingon"


def test_lines_are_kept_and_hard_wrapped_prose_is_rejoined():
    from taskdeck.helpers.text_chunks import split_paragraphs

    text = "Agenda:\nThe council met on\nthe first Monday.\n\n  Best wishes\nBo\n"
    assert split_paragraphs(text) == [
        ("Agenda:", "\n"),
        ("The council met on the first Monday.", "\n\n  "),
        ("Best wishes", "\n"),
        ("Bo", ""),
    ]


def test_chat_gets_the_whole_text_or_whole_lines_packed():
    from taskdeck.plugins.tasks.translation import chat_pieces

    words = lambda t: len(t.split())  # noqa: E731
    text = "Hi there.\nGood day.\nThe cat sat. The dog ran off. Birds sing in trees.\nBye."
    assert chat_pieces(text, words, 100) == [(text, "")]
    assert chat_pieces(text, words, 4) == [
        ("Hi there.\nGood day.", "\n"),
        ("The cat sat.", " "),
        ("The dog ran off.", " "),
        ("Birds sing in trees.", "\n"),
        ("Bye.", ""),
    ]


# ---- T5 and Marian ----
def test_t5_gets_its_translation_prefix(run_in_process, tiny_t5):
    text = "The library will close in March."
    _, result, _, _ = run_in_process(
        "task=translation", text_arg(text), f"model={tiny_t5}", "target=French", "max_new_tokens=8", "num_beams=2"
    )
    expected = raw_translation(tiny_t5, "translate English to French: " + text, max_new_tokens=8, num_beams=2)
    assert expected and result.text == expected and "prefix 'translate English to French:'" in result.method


def test_t5_refuses_a_pair_it_was_not_trained_for(run_in_process, tiny_t5):
    from taskdeck import InputError

    with pytest.raises(InputError, match="this model translates only English to German, English to French: "):
        run_in_process("task=translation", "text=Hello.", f"model={tiny_t5}", "target=Spanish")


def test_marian_pair_comes_from_the_model_name(run_in_process, tiny_marian):
    from taskdeck import InputError

    text = "The library will close in March."
    _, result, _, _ = run_in_process(
        "task=translation", text_arg(text), f"model={tiny_marian}", "target=French", "max_new_tokens=8"
    )
    expected = raw_translation(tiny_marian, text, max_new_tokens=8, num_beams=4)
    assert expected and result.text == expected and "fixed language pair" in result.method
    with pytest.raises(InputError, match="translates en to fr only, not target German"):
        run_in_process("task=translation", text_arg(text), f"model={tiny_marian}", "target=German")


# ---- the chat default ----
def test_default_chat_translation_to_french(run_in_process):
    record, result, _, _ = run_in_process(
        "task=translation", "text='Good morning, how are you?'", "target=French", *CHAT
    )
    print(result.text)
    assert "bonjour" in result.text.lower() and result.method == "chat on llama_cpp"
    assert record["metrics"]["chunks"] == 1 and result.finish_reason == "stop"


def test_chat_translation_chunks_a_text_longer_than_its_budget(run_in_process):
    """With a 512-token window a chunk holds about 130 tokens: the text is sent in several
    calls (whole lines packed, the long line cut by sentence), their translations joined."""
    text = "Hello.\n" + " ".join(CORPUS[i % 7] for i in range(24))
    record, result, _, _ = run_in_process(
        "task=translation",
        text_arg(text),
        "target=French",
        "source=English",
        "model=smollm2-135m",
        "backend=llama_cpp",
        "backend.n_ctx=512",
        *CHAT,
        "max_new_tokens=64",
    )
    assert record["metrics"]["chunks"] > 2 and f"{record['metrics']['chunks']} chunks" in result.method
    assert result.text.strip() and record["metrics"]["completion_tokens"] > 64  # more than one call's worth


# ---- bad input ----
def test_missing_target_is_one_line_on_the_cli(tmp_path):
    proc = cli("task=translation", "text=Hello.", tmp_path=tmp_path)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert "needs target" in proc.stderr and "target=..." in proc.stderr


def test_empty_text_is_one_line(run_in_process):
    from taskdeck import InputError

    with pytest.raises(InputError, match="text= is empty"):
        run_in_process("task=translation", "text=''", "target=French")
