"""task=tokenize against the tokenizers' own outputs: transformers (fast tokenizers' offsets,
convert_ids_to_tokens, apply_chat_template), llama.cpp over the packs' GGUF vocabularies, and
the tokenizers library over faster-whisper's tokenizer.json."""

from __future__ import annotations

import csv
import json

import pytest
from conftest import cli

# Spaces, tabs, newlines, code, accents, CJK, an emoji (split over byte tokens), digits and a
# special token written in the text.
TRICKY = "Hello  world!\tnaïve café — 東京 🚀\n\ndef f(x):\n    return x**2  # 12345 <|im_end|> don't"


def _tokens(result):
    return [(t["id"], t["token"], t["start"], t["end"]) for t in result.tokens]


def test_the_token_table_is_the_tokenizers_own(run_in_process, session):
    from transformers import AutoTokenizer

    folder = session.packs.get("all-minilm-l6-v2").path()
    text = "Tokenizers split unbelievably long words, don't they?"
    _, result, _, _ = run_in_process(
        "task=tokenize", f"text='{text.replace(chr(39), chr(92) + chr(39))}'", "model=all-minilm-l6-v2"
    )
    tok = AutoTokenizer.from_pretrained(folder)
    enc = tok(text, return_offsets_mapping=True)
    assert [t["id"] for t in result.tokens] == enc["input_ids"]
    assert [t["token"] for t in result.tokens] == tok.convert_ids_to_tokens(enc["input_ids"])
    assert [(t["start"], t["end"]) for t in result.tokens] == [tuple(o) for o in enc["offset_mapping"]]
    assert [t["position"] for t in result.tokens] == list(range(len(enc["input_ids"])))
    assert [t["special"] for t in result.tokens] == [i in tok.all_special_ids for i in enc["input_ids"]]
    assert result.counts["tokens"] == len(enc["input_ids"])
    assert result.counts["words"] == len(text.split())
    assert result.vocabulary["size"] == len(tok) and result.vocabulary["kind"] == "WordPiece"
    assert result.vocabulary["adds"] == ["cls", "sep"]
    assert {s["role"]: s["id"] for s in result.vocabulary["special"]}["unk"] == tok.unk_token_id
    # WordPiece lower-cases: decoding does not give the text back, and the reason is named.
    assert result.round_trip["ok"] is False
    assert result.round_trip["at"] == 0 and "lower-cases" in result.round_trip["why"]


@pytest.mark.parametrize("alias", ["smollm2-135m", "qwen2.5-coder-0.5b"])
def test_llama_cpp_and_transformers_read_the_packs_the_same(run_in_process, alias):
    """The GGUF vocabulary through llama.cpp (the default) and through transformers' GGUF
    conversion: the same ids, the same spellings, the same spans, the same specials."""
    text = TRICKY.replace("'", "\\'")
    _, by_llama, _, _ = run_in_process("task=tokenize", f"text='{text}'", f"model={alias}")
    _, by_hf, _, _ = run_in_process("task=tokenize", f"text='{text}'", f"model={alias}", "backend=transformers")
    assert by_llama.library == "llama.cpp" and by_hf.library == "transformers"
    assert _tokens(by_llama) == _tokens(by_hf)
    assert [t["special"] for t in by_llama.tokens] == [t["special"] for t in by_hf.tokens]
    assert any(t["special"] and t["token"] == "<|im_end|>" for t in by_llama.tokens)  # parsed, not spelled out
    assert by_llama.vocabulary["size"] == by_hf.vocabulary["size"]
    assert by_llama.round_trip == by_hf.round_trip == {"ok": True}
    # Offsets cover the text: every non-special token's span decodes to its piece's text.
    for t in by_llama.tokens:
        if "\ufffd" not in t["piece"] and not t["special"]:
            assert TRICKY[t["start"] : t["end"]] == t["piece"]


def test_the_smollm2_tokens_match_transformers_own_gguf_tokenizer(run_in_process, smollm2_tokenizer):
    tok = smollm2_tokenizer
    _, result, _, _ = run_in_process("task=tokenize", "text='Hello world, naïve café'", "model=smollm2-135m")
    ids = tok("Hello world, naïve café")["input_ids"]
    assert [t["id"] for t in result.tokens] == ids
    assert [t["token"] for t in result.tokens] == tok.convert_ids_to_tokens(ids)


def test_a_chat_template_renders_as_transformers_renders_it(run_in_process, tiny_chat_model, tmp_path):
    """The rendered conversation equals apply_chat_template (text and ids) on transformers, and
    llama.cpp's Jinja rendering of the same GGUF template gives the same text."""
    from transformers import AutoTokenizer

    messages = [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "What is 2+2?"},
        {"role": "assistant", "content": "4"},
        {"role": "user", "content": "And 3+3?"},
    ]
    path = tmp_path / "chat.json"
    path.write_text(json.dumps({"messages": messages}))
    tok = AutoTokenizer.from_pretrained(tiny_chat_model)
    for generation in (True, False):
        expected = tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=generation)
        expected_ids = tok.apply_chat_template(messages, tokenize=True, add_generation_prompt=generation)
        expected_ids = expected_ids["input_ids"] if hasattr(expected_ids, "keys") else expected_ids
        for model in (str(tiny_chat_model), "smollm2-135m"):
            _, result, _, _ = run_in_process(
                "task=tokenize", f"model={model}", f"conversation={path}", f"add_generation_prompt={generation}"
            )
            assert result.mode == "chat" and result.text == expected, model
            assert [t["id"] for t in result.tokens] == list(expected_ids), model
            assert result.template["messages"] == 4
            assert result.template["special"]["<|im_start|>"] == 4 + int(generation)
            assert result.template["special"]["<|im_end|>"] == 4


def test_system_and_prompt_make_a_conversation(run_in_process):
    _, result, _, _ = run_in_process("task=tokenize", "model=qwen2.5-coder-0.5b", "system='Be brief.'", "prompt=Hi")
    assert result.text.startswith("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>")
    assert result.text.endswith("<|im_start|>assistant\n")


def test_ids_decode_with_their_spellings(run_in_process, session):
    from transformers import AutoTokenizer

    folder = session.packs.get("all-minilm-l6-v2").path()
    tok = AutoTokenizer.from_pretrained(folder)
    ids = tok("unbelievably simple")["input_ids"]
    _, result, _, _ = run_in_process("task=tokenize", "model=all-minilm-l6-v2", f"ids=[{','.join(map(str, ids))}]")
    assert result.mode == "ids" and result.text == tok.decode(ids)
    assert [t["token"] for t in result.tokens] == tok.convert_ids_to_tokens(ids)
    assert [t["special"] for t in result.tokens] == [i in tok.all_special_ids for i in ids]
    assert result.tokens[0]["special"] and result.tokens[-1]["special"]
    # ids that are not the tokenizer's own split of their text are flagged: 'h' + 'ello' for 'hello'
    pieces = [run_in_process("task=tokenize", "model=smollm2-135m", f"text={w}")[1].tokens for w in ("h", "ello")]
    assert [len(p) for p in pieces] == [1, 1]
    ids = f"ids=[{pieces[0][0]['id']},{pieces[1][0]['id']}]"
    _, other, _, _ = run_in_process("task=tokenize", "model=smollm2-135m", ids)
    assert other.text == "hello" and other.round_trip["ok"] is False
    assert "not the tokenizer's own split" in other.round_trip["why"]


def test_compare_lists_the_stretches_split_differently(run_in_process, session):
    from tokenizers import Tokenizer

    text = "Tokenization is unbelievably important"
    _, result, _, _ = run_in_process(
        "task=tokenize", f"text='{text}'", "compare=[qwen2.5-coder-0.5b,smollm2-135m,all-minilm-l6-v2,whisper-tiny.en]"
    )
    assert [r["model"] for r in result.tokenizers] == [
        "qwen2.5-coder-0.5b",
        "smollm2-135m",
        "all-minilm-l6-v2",
        "whisper-tiny.en",
    ]
    rows = {r["model"]: r for r in result.tokenizers}
    whisper = Tokenizer.from_file(str(session.packs.get("whisper-tiny.en").path() / "tokenizer.json"))
    assert rows["whisper-tiny.en"]["tokens"] == len(whisper.encode(text).ids)
    assert rows["whisper-tiny.en"]["library"] == "tokenizers"
    assert [t["id"] for t in result.tokens["whisper-tiny.en"]] == whisper.encode(text).ids
    assert rows["all-minilm-l6-v2"]["round_trip"].startswith("the tokenizer lower-cases")
    assert rows["qwen2.5-coder-0.5b"]["vocabulary"] == 151936
    by_text = {s["text"]: s for s in result.differing}
    assert "unbelievably" in by_text  # Qwen: unbelie|vably, MiniLM: un|bel|ie|va|bly
    splits = by_text["unbelievably"]["splits"]
    assert "".join(splits["all-minilm-l6-v2"]) == "unbelievably" and len(splits["all-minilm-l6-v2"]) > 1
    assert "Tokenization" not in by_text or len({tuple(v) for v in by_text["Tokenization"]["splits"].values()}) > 1
    assert "is" not in by_text  # every tokenizer keeps 'is' whole


def test_batch_counts_tokens_per_row(tmp_path, session):
    from transformers import AutoTokenizer

    rows = ["A short one.", "A somewhat longer row, with punctuation; and more words than the first one!", "東京"]
    data = tmp_path / "rows.csv"
    with data.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["review"])
        writer.writerows([r] for r in rows)
    proc = cli("task=tokenize", f"input={data}", "column=review", "model=all-minilm-l6-v2", tmp_path=tmp_path)
    assert proc.returncode == 0, proc.stderr
    tok = AutoTokenizer.from_pretrained(session.packs.get("all-minilm-l6-v2").path())
    with (tmp_path / "run" / "results.csv").open() as f:
        table = list(csv.DictReader(f))
    assert [int(r["tokens"]) for r in table] == [len(tok(r)["input_ids"]) for r in rows]
    assert [int(r["characters"]) for r in table] == [len(r) for r in rows]
    assert "position" not in table[0]  # counts only, no token table per row
    counted = sum(len(tok(r)["input_ids"]) for r in rows)
    assert f"in all: {counted:,} tokens, {sum(len(r) for r in rows)} characters" in proc.stdout
    record = json.loads((tmp_path / "run" / "result.json").read_text())
    assert record["metrics"]["total_tokens"] == counted


def test_terminal_colours_and_files(tmp_path):
    args = ("task=tokenize", "text='Hi there'", "model=smollm2-135m", "output=[text,json,csv,html,markdown]")
    coloured = cli(*args, tmp_path=tmp_path, env={"FORCE_COLOR": "1"})
    assert coloured.returncode == 0, coloured.stderr
    assert "\x1b[30;48;5;153mHi\x1b[0m\x1b[30;48;5;223m·there\x1b[0m" in coloured.stdout
    plain = cli(*args, tmp_path=tmp_path, env={"NO_COLOR": "1"})
    assert "\x1b[" not in plain.stdout and "Hi|·there" in plain.stdout
    run = tmp_path / "run"
    data = json.loads((run / "tokenize.json").read_text())
    assert [t["token"] for t in data["tokens"]] == ["Hi", "Ġthere"]
    with (run / "tokenize.csv").open() as f:
        table = list(csv.DictReader(f))
    assert [r["piece"] for r in table] == ["Hi", " there"] and table[1]["start"] == "2"
    page = (run / "tokenize.html").read_text()
    first, second = (t["id"] for t in data["tokens"])
    assert f'title="{first} Hi"' in page and "·there</span>" in page
    assert f"| 1 | {second} | Ġthere |  there | 2 | 8 | False |" in (run / "tokenize.md").read_text()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("model=smollm2-135m",), "nothing to tokenize: give text="),
        (("model=smollm2-135m", "text=hi", "ids=[1]"), "give one of text=, ids="),
        (("model=smollm2-135m", "ids=[999999]"), "id 999999 is not in the vocabulary: ids run from 0 to 49151"),
        (("model=smollm2-135m", "conversation=missing.json"), "conversation file not found: missing.json"),
        (("model=all-minilm-l6-v2", "prompt=hi"), "has no chat template"),
        (("text=hi", "compare=[smollm2-135m]"), "at least two tokenizers"),
    ],
)
def test_bad_input_is_one_line(tmp_path, args, expected):
    proc = cli("task=tokenize", *args, tmp_path=tmp_path)
    assert proc.returncode == 2, proc.stdout
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and expected in lines[0], proc.stderr


def test_a_hub_tokenizer_is_fetched_without_its_weights(tmp_path, session):
    """model=org/name on a Hub (here one on loopback): config and tokenizer files come down,
    the weights never do."""
    from fake_hub import FakeHub

    repo = tmp_path / "repos" / "models" / "org" / "minilm"
    repo.mkdir(parents=True)
    for f in session.packs.get("all-minilm-l6-v2").path().iterdir():
        if f.is_file():
            (repo / f.name).symlink_to(f)
    env = {"HF_HUB_CACHE": str(tmp_path / "hub"), "HF_HUB_OFFLINE": ""}
    with FakeHub(tmp_path / "repos") as hub:
        proc = cli("task=tokenize", "text='Hello there'", "compare=[org/minilm,smollm2-135m]", "output=json",
                   tmp_path=tmp_path, env={**env, "HF_ENDPOINT": hub.url})  # fmt: skip
        fetched = {path.rsplit("/", 1)[-1] for method, path, _ in hub.seen if "/resolve/" in path}
    assert proc.returncode == 0, proc.stderr
    data = json.loads((tmp_path / "run" / "tokenize.json").read_text())
    assert [r["tokens"] for r in data["tokenizers"]] == [4, 2]  # [CLS] hello there [SEP]; Hello Ġthere
    assert "config.json" in fetched and "tokenizer.json" in fetched
    assert not any(name.endswith((".safetensors", ".bin")) for name in fetched), fetched
