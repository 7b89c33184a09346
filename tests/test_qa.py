"""task=qa: a tiny random extractive QA model (real tokenizer) against a brute-force
reference over the model's own logits, long contexts read in windows, "no answer", the batch
path, the embedded chat model's quotes, and one-line errors."""

import json

import pytest
from conftest import cli, tiny_bert, used

MARIA = "Maria lives in Lisbon and works in Porto."
# The chat model's answers are the same with 1 thread and faster on a busy machine.
CHAT = ("backend.threads=1",)
SHORT = [
    ("Where does Maria live?", MARIA),
    ("When was the tower completed?", "The Eiffel Tower was completed in 1889 and is located in Paris."),
]


def _zero_positions(model):
    # Models that pad on the left (XLNet, ...) have no absolute positions: without them a
    # window's logits do not depend on how much padding its batch adds.
    model.bert.embeddings.position_embeddings.weight.zero_()


def _save_tiny(session, out, padding_side="right"):
    return tiny_bert(
        session,
        "BertForQuestionAnswering",
        out,
        padding_side=padding_side,
        prepare=_zero_positions if padding_side == "left" else None,
    )


@pytest.fixture(scope="module")
def tiny_qa(tmp_path_factory, session):
    """A tiny random BERT extractive QA model with all-MiniLM-L6-v2's WordPiece tokenizer."""
    return _save_tiny(session, tmp_path_factory.mktemp("tiny-qa"))


def reference(model_dir, question, context, *, max_answer_len=30, max_seq_len=384, stride=128, context_first=False):
    """The best distinct character spans over every window, by brute force over all
    (start, end) token pairs, and the null score (lowest CLS*CLS across windows)."""
    import torch
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForQuestionAnswering.from_pretrained(model_dir).eval()
    pair = (context, question) if context_first else (question, context)
    enc = tok(
        *pair,
        truncation="only_first" if context_first else "only_second",
        max_length=max_seq_len,
        stride=stride,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
        padding=True,
        return_tensors="pt",
    )
    offsets = enc.pop("offset_mapping").tolist()
    enc.pop("overflow_to_sample_mapping")
    with torch.no_grad():
        out = model(**enc)
    spans, null = {}, 1.0
    for w in range(len(offsets)):
        seq = enc.sequence_ids(w)
        in_context = [i for i, s in enumerate(seq) if s == (0 if context_first else 1)]
        cls = enc["input_ids"][w].tolist().index(tok.cls_token_id)
        allowed = in_context + [cls]

        def probs(logits, allowed=allowed):
            masked = torch.full_like(logits, float("-inf"))
            masked[allowed] = logits[allowed]
            return masked.softmax(-1)

        ps, pe = probs(out.start_logits[w]), probs(out.end_logits[w])
        null = min(null, float(ps[cls] * pe[cls]))
        for i in in_context:
            for j in in_context:
                if i <= j < i + max_answer_len:
                    span = (offsets[w][i][0], offsets[w][j][1])
                    spans[span] = max(spans.get(span, 0.0), float(ps[i] * pe[j]))
    return sorted(spans.items(), key=lambda kv: -kv[1]), null


def _check_spans(result, context):
    spans = [(a.start, a.end) for a in result.answers]
    assert len(set(spans)) == len(spans), "answers are distinct character spans"
    scores = [a.score for a in result.answers]
    assert scores == sorted(scores, reverse=True)
    for a in result.answers:
        assert context[a.start : a.end] == a.answer and a.answer.strip()


@pytest.mark.parametrize("question,context", SHORT)
def test_extractive_matches_brute_force_reference(run_in_process, tiny_qa, question, context):
    record, result, run_dir, out = run_in_process(
        "task=qa", f"question={question!r}", f"context={context!r}", f"model={tiny_qa}", "top_k=3"
    )
    assert record["status"] == "ok"
    assert used(record) == [{"model": str(tiny_qa), "backend": "transformers", "capability": "extract_answer"}]
    assert result.method == "extractive" and result.question == question and result.context == context
    expected, _ = reference(tiny_qa, question, context)
    assert [(a.start, a.end) for a in result.answers] == [span for span, _ in expected[:3]]
    for got, (_, score) in zip(result.answers, expected):
        assert got.score == pytest.approx(score, abs=1e-6)
    _check_spans(result, context)
    assert out.startswith(result.answers[0].answer)
    saved = json.loads((run_dir / "qa.json").read_text())
    assert saved["answers"][0]["start"] == result.answers[0].start


def test_max_answer_len_bounds_the_span(run_in_process, tiny_qa):
    question, context = SHORT[1]
    _, result, _, _ = run_in_process(
        "task=qa", f"question={question!r}", f"context={context!r}", f"model={tiny_qa}", "top_k=5", "max_answer_len=1"
    )
    expected, _ = reference(tiny_qa, question, context, max_answer_len=1)
    assert [(a.start, a.end) for a in result.answers] == [span for span, _ in expected[:5]]
    assert all(" " not in a.answer for a in result.answers)  # one WordPiece token each


def _long_context():
    things = ["river", "castle", "bakery", "library", "harbour", "garden", "museum", "station"]
    return " ".join(
        f"In {1900 + i} the {things[i % 8]} of town {i} was painted {['red', 'blue', 'green'][i % 3]} "
        f"by a worker called {['Ana', 'Rui', 'Eva', 'Tom'][i % 4]}."
        for i in range(60)
    )


def test_long_context_is_read_in_windows(run_in_process, tiny_qa):
    """~1000 tokens in 64-token windows: the best spans over all windows, late ones included,
    with exact character offsets."""
    from transformers import AutoTokenizer

    context = _long_context()
    question = "Who painted the museum?"
    _, result, _, _ = run_in_process(
        "task=qa",
        f"question={question!r}",
        f"context={context!r}",
        f"model={tiny_qa}",
        "top_k=25",
        "max_seq_len=64",
        "doc_stride=16",
    )
    expected, _ = reference(tiny_qa, question, context, max_seq_len=64, stride=16)
    assert [(a.start, a.end) for a in result.answers] == [span for span, _ in expected[:25]]
    for got, (_, score) in zip(result.answers, expected):
        assert got.score == pytest.approx(score, abs=1e-6)
    _check_spans(result, context)
    tok = AutoTokenizer.from_pretrained(tiny_qa)
    windows = tok(
        question,
        context,
        truncation="only_second",
        max_length=64,
        stride=16,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
    )
    assert len(windows["input_ids"]) > 15
    first_window_end = max(o[1] for o, s in zip(windows["offset_mapping"][0], windows.sequence_ids(0)) if s == 1)
    assert max(a.start for a in result.answers) > 4 * first_window_end  # spans from late windows compete


def test_left_padding_tokenizer_puts_the_context_first(run_in_process, session, tmp_path):
    left = _save_tiny(session, tmp_path / "left", padding_side="left")
    context = _long_context()[:900]
    question = "Who painted the castle?"
    _, result, _, _ = run_in_process(
        "task=qa",
        f"question={question!r}",
        f"context={context!r}",
        f"model={left}",
        "top_k=4",
        "max_seq_len=48",
        "doc_stride=8",
        "backend=transformers",
        "backend.batch_size=4",
    )  # the last batch is padded
    expected, _ = reference(left, question, context, max_seq_len=48, stride=8, context_first=True)
    assert [(a.start, a.end) for a in result.answers] == [span for span, _ in expected[:4]]
    _check_spans(result, context)


@pytest.fixture(scope="module")
def null_loving_qa(tiny_qa, tmp_path_factory):
    """The tiny model with its QA head pointed at the [CLS] state of MARIA's encoding: the
    null (no answer) score beats every span there, as the reference confirms."""
    import torch
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    out = tmp_path_factory.mktemp("null-qa")
    tok = AutoTokenizer.from_pretrained(tiny_qa)
    model = AutoModelForQuestionAnswering.from_pretrained(tiny_qa).eval()
    with torch.no_grad():
        h = model.bert(**tok("How old is Maria?", MARIA, return_tensors="pt")).last_hidden_state[0, 0]
        model.qa_outputs.weight.copy_(torch.stack([h, h]) * 2.0)
        model.qa_outputs.bias.zero_()
    model.save_pretrained(out)
    tok.save_pretrained(out)
    best, null = reference(out, "How old is Maria?", MARIA)
    assert null > best[0][1]
    return out


def test_no_answer_wins_only_when_asked(run_in_process, null_loving_qa):
    args = ("task=qa", "question='How old is Maria?'", f"context={MARIA!r}", f"model={null_loving_qa}")
    _, result, run_dir, out = run_in_process(*args, "handle_impossible_answer=true")
    assert result.answers == []
    assert out.strip() == "(no answer in the context)"
    assert json.loads((run_dir / "qa.json").read_text())["answers"] == []
    _, forced, _, _ = run_in_process(*args)  # without it, the best span is given all the same
    assert (
        len(forced.answers) == 1 and MARIA[forced.answers[0].start : forced.answers[0].end] == forced.answers[0].answer
    )


def test_batch_matches_single_runs(run_in_process, tiny_qa, tmp_path):
    rows = [{"question": q, "context": c} for q, c in SHORT]
    rows += [{"question": "", "context": MARIA}, {"question": "Who painted the museum?", "context": _long_context()}]
    path = tmp_path / "pairs.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    record, result, run_dir, _ = run_in_process(
        "task=qa", f"input={path}", f"model={tiny_qa}", "top_k=2", "backend=transformers", "backend.batch_size=2"
    )
    assert result.ok == 3 and result.failed == 1
    done = [json.loads(ln) for ln in (run_dir / "results.jsonl").read_text().splitlines()]
    assert [d["index"] for d in done] == [0, 1, 2, 3]
    assert done[2]["error"].startswith("question= is empty")
    for i in (0, 1, 3):
        q, c = rows[i]["question"], rows[i]["context"]
        _, single, _, _ = run_in_process("task=qa", f"question={q!r}", f"context={c!r}", f"model={tiny_qa}", "top_k=2")
        batched = json.loads(done[i]["answers"])
        assert [(a["start"], a["end"]) for a in batched] == [(a.start, a.end) for a in single.answers]
        assert [a["score"] for a in batched] == pytest.approx([a.score for a in single.answers], abs=1e-5)


# ---- the default: the embedded chat model quotes the context ----


def test_default_chat_model_quotes_the_answer(run_in_process):
    record, result, _, out = run_in_process("task=qa", "question='Where does Maria live?'", f"context={MARIA!r}", *CHAT)
    assert record["models"] == [{"model": "qwen2.5-coder-1.5b", "backend": "llama_cpp", "capability": "chat"}]
    assert result.method == "chat-json" and len(result.answers) == 1
    best = result.answers[0]
    assert MARIA[best.start : best.end] == best.answer and "Lisbon" in best.answer and "Porto" not in best.answer
    assert 0.5 <= best.score <= 1.0
    assert out.startswith(best.answer)


def test_default_chat_model_says_when_the_context_has_no_answer(run_in_process):
    _, result, _, out = run_in_process("task=qa", "question='How old is Maria?'", f"context={MARIA!r}", *CHAT)
    assert result.answers == [] and out.strip() == "(no answer in the context)"


def test_locate_finds_the_quote_as_written_in_the_context():
    from taskdeck.plugins.tasks.qa import locate

    context = "Maria lives in  Lisbon,\nand works in Porto."
    for quote, span in [
        ("Lisbon", "Lisbon"),
        ("lisbon", "Lisbon"),
        ("in lisbon", "in  Lisbon"),
        ('"Lisbon."', "Lisbon"),
        ("Lisbon, and works", "Lisbon,\nand works"),
    ]:
        start, end = locate(context, quote)
        assert context[start:end] == span
    assert locate(context, "Madrid") is None


# ---- bad input ----


def test_empty_question_is_one_line(tmp_path):
    proc = cli("task=qa", "question=", f"context={MARIA}", tmp_path=tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: question= is empty"), proc.stderr


def test_empty_context_and_bad_options(run_in_process, tiny_qa):
    from taskdeck.errors import ConfigError, InputError

    with pytest.raises(InputError, match="context= is empty"):
        run_in_process("task=qa", "question=Why?", "context=' '", f"model={tiny_qa}")
    with pytest.raises(ConfigError, match=r"top_k=0 is out of range: give an integer >= 1"):
        run_in_process("task=qa", "question=Why?", f"context={MARIA!r}", f"model={tiny_qa}", "top_k=0")
    with pytest.raises(InputError, match="shorten the question or raise max_seq_len"):
        run_in_process(
            "task=qa", f"question={'why ' * 20!r}", f"context={MARIA!r}", f"model={tiny_qa}", "max_seq_len=16"
        )
