"""backend=openai against a real OpenAI-compatible server: ``transformers serve`` on 127.0.0.1."""
from __future__ import annotations

import json
import urllib.request


def test_server_fixture_answers_chat(openai_server):
    base_url, model = openai_server
    body = {"model": model, "messages": [{"role": "user", "content": "Say hi"}], "max_tokens": 5}
    req = urllib.request.Request(f"{base_url}/chat/completions", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=120) as resp:
        answer = json.load(resp)
    assert answer["choices"][0]["message"]["content"]
    assert answer["usage"]["completion_tokens"] == 5
