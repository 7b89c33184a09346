"""A Hugging Face Hub on loopback for tests (``HF_ENDPOINT``): the parts of the Hub's API that
``huggingface_hub`` and ``datasets`` use to list, stream and download a repository's files.

Repositories are folders: ``root/models/org/name/…`` and ``root/datasets/org/name/…``. A
repository in ``gated`` answers 401 unless the request carries ``Bearer <token>``. A file
named in ``cut`` (file name -> reads) is served whole that many times, then the Hub drops
mid-stream: each later read gets its headers and half its bytes, and the connection closes.
Every request is recorded as ``(method, path, authorization)`` in ``seen``.
"""

from __future__ import annotations

import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

COMMIT = "c" * 40


class FakeHub:
    def __init__(
        self, root: Path, gated: tuple[str, ...] = (), token: str = "hf_secret_token", cut: dict | None = None
    ):
        self.root, self.gated, self.token = Path(root), set(gated), token
        self.cut, self.reads = dict(cut or {}), dict.fromkeys(cut or {}, 0)
        self.seen: list[tuple[str, str, str]] = []
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                hub._answer(self, head=False)

            def do_HEAD(self):
                hub._answer(self, head=True)

            def do_POST(self):
                hub._answer(self, head=False)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def __enter__(self) -> FakeHub:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _answer(self, req: BaseHTTPRequestHandler, head: bool) -> None:
        auth = req.headers.get("Authorization") or ""
        body_in = req.rfile.read(int(req.headers.get("Content-Length") or 0)) if req.command == "POST" else b""
        self.seen.append((req.command, req.path, auth))
        url = urlparse(req.path)
        parts = [unquote(p) for p in url.path.strip("/").split("/")]
        api = parts[:1] == ["api"]
        if api:
            parts = parts[1:]
        kind = parts.pop(0) if parts[:1] in (["models"], ["datasets"]) else "models"
        repo_id = "/".join(parts[:2])
        repo = self.root / kind / repo_id
        rest = parts[2:]
        if not repo.is_dir() or len(parts) < 2:
            return self._send(req, 404, b'{"error": "Repository not found"}', {"X-Error-Code": "RepoNotFound"}, head)
        if f"{kind}/{repo_id}" in self.gated and auth != f"Bearer {self.token}":
            return self._send(req, 401, b'{"error": "gated"}', {"X-Error-Code": "GatedRepo"}, head)
        if api and rest[:1] in ([], ["revision"]):
            names = [{"rfilename": e["path"]} for e in self._entries(repo, repo, recursive=True) if e["type"] == "file"]
            return self._json(req, {"id": repo_id, "sha": COMMIT, "private": False, "siblings": names}, head)
        if api and rest[:1] == ["tree"]:
            folder = repo.joinpath(*rest[2:])
            recursive = parse_qs(url.query).get("recursive", ["false"])[0].lower() == "true"
            if not folder.is_dir():
                return self._send(req, 404, b"{}", {"X-Error-Code": "EntryNotFound"}, head)
            return self._json(req, self._entries(repo, folder, recursive), head)
        if api and rest[:1] == ["paths-info"]:
            wanted = parse_qs(body_in.decode()).get("paths", [])
            found = [e for e in self._entries(repo, repo, recursive=True) if e["path"] in wanted]
            return self._json(req, found, head)
        if not api and rest[:1] == ["resolve"] and len(rest) > 2:
            return self._file(req, repo.joinpath(*rest[2:]), head)
        return self._send(req, 404, b"{}", {"X-Error-Code": "EntryNotFound"}, head)

    def _entries(self, repo: Path, folder: Path, recursive: bool) -> list[dict]:
        found = []
        for path in sorted(folder.rglob("*") if recursive else folder.iterdir()):
            rel = path.relative_to(repo).as_posix()
            if path.is_file():
                oid = hashlib.sha1(rel.encode()).hexdigest()
                found.append({"type": "file", "path": rel, "size": path.stat().st_size, "oid": oid})
            elif path.is_dir():
                found.append({"type": "directory", "path": rel, "oid": "0" * 40})
        return found

    def _file(self, req: BaseHTTPRequestHandler, path: Path, head: bool) -> None:
        if not path.is_file():
            return self._send(req, 404, b"{}", {"X-Error-Code": "EntryNotFound"}, head)
        size = path.stat().st_size
        headers = {"X-Repo-Commit": COMMIT, "ETag": f'"{hashlib.sha1(str(path).encode()).hexdigest()}"',
                   "Accept-Ranges": "bytes"}  # fmt: skip
        start, stop, code = 0, size, 200
        ranged = req.headers.get("Range")
        if ranged and ranged.startswith("bytes="):
            first, _, last = ranged[6:].partition("-")
            start, stop, code = int(first), min(size, int(last) + 1 if last else size), 206
            headers["Content-Range"] = f"bytes {start}-{stop - 1}/{size}"
        with open(path, "rb") as f:
            f.seek(start)
            body = b"" if head else f.read(stop - start)
        if not head and path.name in self.cut:
            self.reads[path.name] += 1
            if self.reads[path.name] > self.cut[path.name]:  # the Hub drops mid-stream
                body = body[: len(body) // 2]
                req.close_connection = True
        self._send(req, code, body, headers, head, length=stop - start)

    def _json(self, req: BaseHTTPRequestHandler, value, head: bool) -> None:
        self._send(req, 200, json.dumps(value).encode(), {"Content-Type": "application/json"}, head)

    @staticmethod
    def _send(req, code: int, body: bytes, headers: dict, head: bool, length: int | None = None) -> None:
        req.send_response(code)
        for key, value in headers.items():
            req.send_header(key, value)
        req.send_header("Content-Length", str(len(body) if length is None else length))
        req.end_headers()
        if not head:
            req.wfile.write(body)
