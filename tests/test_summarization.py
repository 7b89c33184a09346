"""task=summarization: seq2seq equal to raw generate, map-reduce over chunks, the chat default."""

import pytest
from conftest import cli, text_arg

# The chat models answer the same with 1 thread, and much faster on a busy machine
# (llama.cpp's threads spin-wait: 2 threads on 2 shared cores can be 5x slower).
CHAT = ("backend.threads=1",)
PARAGRAPH = (
    "The Riverside Library in Dunmore will close for renovation on 3 March and reopen in early September, "
    "the town council announced on Tuesday. The project, which costs 2.4 million euros, will replace the "
    "leaking roof, add a lift for wheelchair users and turn the old basement archive into a children's "
    "reading room. Head librarian Marta Kowalski said the building had not been modernised since 1978 and "
    "that visitor numbers had doubled over the past decade. While the library is closed, a temporary branch "
    "will open in the community hall on Elm Street, offering book loans, printing and free internet access "
    "from Monday to Saturday. Local schools will also receive weekly visits from a mobile library van. The "
    "council said most of the money comes from a regional culture fund, with the remaining 400,000 euros "
    "paid from the town's own budget. Residents can follow the progress of the work on the council's website."
)


def long_text(n: int = 40) -> str:
    """n distinct short sentences (about 10 tokens each)."""
    who = ["Alice", "Bob", "The council", "Dr. Smith", "The mayor", "Acme Corp."]
    did = ["approved", "rejected", "discussed", "funded", "postponed", "reviewed"]
    what = ["the budget", "a new bridge", "the bike lanes", "three schools", "the harbour plan", "a tax cut"]
    return " ".join(f"{who[i % 6]} {did[i * 7 % 6]} {what[i * 5 % 6]} on day {i}." for i in range(n))


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def tiny_bart(tmp_path_factory, session):
    """A tiny random BART summarizer with a real WordPiece tokenizer (all-MiniLM-L6-v2's), a
    64-token window (so chunking triggers) and T5-style ``summarize: `` prefix in its config."""
    import torch
    from transformers import AutoTokenizer, BartConfig, BartForConditionalGeneration

    tokenizer = AutoTokenizer.from_pretrained(
        session.packs.get("all-minilm-l6-v2").path(), model_input_names=["input_ids", "attention_mask"]
    )
    config = BartConfig(
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
        bos_token_id=tokenizer.cls_token_id,
        eos_token_id=tokenizer.sep_token_id,
        decoder_start_token_id=tokenizer.sep_token_id,
        forced_bos_token_id=None,
        forced_eos_token_id=None,
        task_specific_params={"summarization": {"prefix": "summarize: "}},
    )
    torch.manual_seed(0)
    model = BartForConditionalGeneration(config).eval()
    out = tmp_path_factory.mktemp("tiny-bart")
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def raw_summary(path, text, **gen):
    """The reference: tokenizer → model.generate → decode, with nothing of taskdeck."""
    import torch
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModelForSeq2SeqLM.from_pretrained(path).eval()
    inputs = tokenizer(text, return_tensors="pt")
    with torch.inference_mode():
        out = model.generate(**inputs, **gen)
    return tokenizer.decode(out[0], skip_special_tokens=True).strip()


# ---- sentence splitting and chunking ----
def test_sentences_split_at_ends_not_at_abbreviations_or_initials():
    from taskdeck.helpers.text_chunks import split_sentences

    text = (
        'Dr. Smith met J. K. Rowling at 3 p.m. in St. Ives. "Is it raining?" she asked! '
        "Prices rose 2.5% e.g. in May.\n\nNew paragraph without a stop\nsame paragraph. "
        "東京です。次の文。"
    )
    assert split_sentences(text) == [
        "Dr. Smith met J. K. Rowling at 3 p.m. in St. Ives.",
        '"Is it raining?" she asked!',
        "Prices rose 2.5% e.g. in May.",
        "New paragraph without a stop\nsame paragraph.",
        "東京です。",
        "次の文。",
    ]


def test_chunker_covers_every_sentence_once_in_order_within_the_budget(tiny_bart):
    from transformers import AutoTokenizer

    from taskdeck.helpers.text_chunks import chunk_sentences, split_sentences

    tokenizer = AutoTokenizer.from_pretrained(tiny_bart)
    count = lambda t: len(tokenizer(t)["input_ids"])  # noqa: E731
    sentences = split_sentences(long_text(30))
    assert len(sentences) == 30
    chunks = chunk_sentences(sentences, count, 40)
    assert len(chunks) > 1 and all(count(c) <= 40 for c in chunks)
    assert " ".join(chunks) == " ".join(sentences)  # every sentence once, in order, none cut
    assert sum(c.count(" on day ") for c in chunks) == 30
    # a sentence longer than the budget is cut between words, nothing dropped
    runon = " ".join(f"word{i}" for i in range(60)) + "."
    pieces = chunk_sentences(["Short one.", runon], count, 16)
    assert all(count(p) <= 16 for p in pieces) and " ".join(pieces).split() == ["Short", "one.", *runon.split()]
    # a single 'word' longer than the budget is cut between characters
    url = "https://example.org/" + "abcdefghij" * 20
    assert "".join(chunk_sentences([url], count, 10)) == url


# ---- seq2seq ----
@pytest.mark.parametrize("gen", [dict(num_beams=1), dict(num_beams=3, min_new_tokens=5)])
def test_seq2seq_summary_equals_raw_generate(run_in_process, tiny_bart, gen):
    text = "The city council met on Monday to discuss the new bike lanes. The mayor said they open in May."
    extra = [f"{k}={v}" for k, v in gen.items()]
    record, result, _, _ = run_in_process(
        "task=summarization", text_arg(text), f"model={tiny_bart}", "max_new_tokens=12", *extra
    )
    # the config's task_specific_params prefix is used, as a T5 model needs
    assert result.text == raw_summary(tiny_bart, "summarize: " + text, max_new_tokens=12, **gen)
    assert result.text and result.method == "seq2seq" and result.source == text
    assert record["metrics"]["chunks"] == 1 and record["models"][0]["capability"] == "seq2seq"
    # prefix= overrides the config's
    _, plain, _, _ = run_in_process(
        "task=summarization", text_arg(text), f"model={tiny_bart}", "max_new_tokens=12", "prefix='TL;DR: '", *extra
    )
    assert plain.text == raw_summary(tiny_bart, "TL;DR: " + text, max_new_tokens=12, **gen)


def test_long_text_is_map_reduced_over_every_chunk(run_in_process, tiny_bart):
    """Greedy with batch_size=1 (no padding), so each step equals raw generate exactly: the
    result is the raw summary of the joined raw summaries of the chunks."""
    from transformers import AutoTokenizer

    from taskdeck.helpers.text_chunks import chunk_sentences, split_sentences

    text = long_text(40)
    record, result, _, _ = run_in_process(
        "task=summarization",
        text_arg(text),
        f"model={tiny_bart}",
        "max_new_tokens=6",
        "num_beams=1",
        "backend=transformers",
        "backend.batch_size=1",
    )
    tokenizer = AutoTokenizer.from_pretrained(tiny_bart)
    count = lambda t: len(tokenizer("summarize: " + t)["input_ids"])  # noqa: E731
    assert count(text) > 64
    chunks = chunk_sentences(split_sentences(text), count, 64)
    partials = [raw_summary(tiny_bart, "summarize: " + c, max_new_tokens=6, num_beams=1) for c in chunks]
    merged = " ".join(p for p in partials if p)
    assert count(merged) <= 64  # one level of partials fits: the final step summarizes them
    assert result.text == raw_summary(tiny_bart, "summarize: " + merged, max_new_tokens=6, num_beams=1)
    m = record["metrics"]
    assert m["chunks"] == len(chunks) > 1 and m["levels"] == 2 and m["generate_calls"] == len(chunks) + 1
    assert result.text and f"{len(chunks)} chunks" in result.method


def test_a_batch_counts_the_chunks_of_every_forward_call(session, tiny_bart, monkeypatch):
    """``chunks`` and ``levels`` in result.json cover the whole batch, however many forward
    calls it took (they were the last call's)."""
    from taskdeck.engine.session_context import SessionContext
    from taskdeck.plugins.backends.hf_transformers import TransformersParams

    rows = ["The mayor opened the new bridge on Friday.", long_text(12), "Cats sleep a lot."]
    task_cls = session.tasks.get("summarization")
    batch = [task_cls.Params(text=r, model=str(tiny_bart), max_new_tokens=6, num_beams=1) for r in rows]

    def counted(size):
        monkeypatch.setattr(task_cls, "chunk_size", size)
        ctx = SessionContext(session, TransformersParams(batch_size=1), quiet=True)
        try:
            assert len(dict(task_cls().run_batch(enumerate(batch), ctx))) == 3
        finally:
            ctx.close()
        return ctx.metrics["chunks"], ctx.metrics["levels"]

    together = counted(64)
    assert together[0] > 3 and counted(1) == together


def test_batch_rows_equal_single_runs(session, run_in_process, tiny_bart):
    """run_batch sends every row's chunks through generate together; each row's summary equals
    its single run, and an empty row fails alone."""
    from taskdeck import InputError
    from taskdeck.engine.session_context import SessionContext
    from taskdeck.plugins.backends.hf_transformers import TransformersParams

    rows = ["The mayor opened the new bridge on Friday.", long_text(12), "Cats sleep a lot.", "  "]
    task_cls = session.tasks.get("summarization")
    ctx = SessionContext(session, TransformersParams(batch_size=1), quiet=True)
    batch = [task_cls.Params(text=r, model=str(tiny_bart), max_new_tokens=6, num_beams=1) for r in rows]
    try:
        out = dict(task_cls().run_batch(enumerate(batch), ctx))
    finally:
        ctx.close()
    assert sorted(out) == [0, 1, 2, 3] and isinstance(out[3], InputError)
    assert ctx.metrics["chunks"] > 3  # the long row was chunked
    for i, row in enumerate(rows[:3]):
        _, single, _, _ = run_in_process(
            "task=summarization",
            text_arg(row),
            f"model={tiny_bart}",
            "max_new_tokens=6",
            "num_beams=1",
            "backend=transformers",
            "backend.batch_size=1",
        )
        assert out[i].text == single.text and out[i].source == row


def test_partial_summaries_that_do_not_shrink_are_one_line(run_in_process, tiny_bart):
    from taskdeck import InputError

    with pytest.raises(InputError, match="lower max_new_tokens"):
        run_in_process(
            "task=summarization", text_arg(long_text(40)), f"model={tiny_bart}", "max_new_tokens=60", "num_beams=1"
        )


# ---- the chat default ----
def test_default_chat_summary_is_shorter_and_keeps_the_subject(run_in_process):
    record, result, _, _ = run_in_process("task=summarization", text_arg(PARAGRAPH), "length=short", *CHAT)
    print(result.text)
    assert result.method.startswith("chat on llama_cpp") and record["metrics"]["chunks"] == 1
    assert 0 < len(result.text.split()) < 0.7 * len(PARAGRAPH.split())
    assert "library" in result.text.lower() and ("Riverside" in result.text or "Dunmore" in result.text)


def test_chat_map_reduce_over_a_small_window(run_in_process):
    """A text longer than the chat window is summarized chunk by chunk, then merged."""
    text = long_text(60)
    record, result, _, _ = run_in_process(
        "task=summarization",
        text_arg(text),
        "model=smollm2-135m",
        "backend=llama_cpp",
        "backend.n_ctx=512",
        *CHAT,
        "max_new_tokens=48",
        "length=short",
    )
    m = record["metrics"]
    assert m["chunks"] > 1 and m["levels"] >= 2 and m["generate_calls"] >= m["chunks"] + 1
    assert result.text.strip() and "map-reduce" in result.method


# ---- bad input ----
def test_empty_text_is_one_line_on_the_cli(tmp_path):
    proc = cli("task=summarization", "text='   '", tmp_path=tmp_path)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert proc.stderr.startswith("error: text= is empty") and "Traceback" not in proc.stderr


def test_bad_length_names_the_choices(run_in_process):
    from taskdeck import ConfigError

    with pytest.raises(ConfigError, match="use short, medium, long or a number of sentences"):
        run_in_process("task=summarization", "text=Hello there.", "length=tiny")
