"""A scripted OpenAI-compatible chat server on 127.0.0.1, so tests drive LiteLLM's real HTTP path.

Each model name has a queue of replies; a request pops the next one. A reply is a dict:
`content` (the message text), optional `reasoning` (sent as `reasoning_content`), `status`
(an HTTP error code instead of an answer), `delay` (seconds to wait first: a timeout), and
`usage` (prompt, completion tokens). Every request body is kept in `requests` for assertions.
An exhausted queue answers 400, so a test that scripted too little fails loudly.
"""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class ScriptedModels:
    def __init__(self, scripts: dict[str, list[dict]]):
        self.scripts = {name: list(replies) for name, replies in scripts.items()}
        self.requests: list[dict] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()

    def asked(self, model: str) -> list[dict]:
        return [r for r in self.requests if r["model"] == model]

    def _next(self, body: dict) -> dict | None:
        with self._lock:
            self.requests.append(body)
            queue = self.scripts.get(body.get("model"), [])
            return queue.pop(0) if queue else None

    def _handler(self):
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, status: int, payload: dict, headers: dict | None = None):
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                try:
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the client timed out first
                    pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                reply = owner._next(body)
                if reply is None:
                    return self._send(400, {"error": {"message": "script exhausted",
                                                      "type": "invalid_request_error"}})
                time.sleep(reply.get("delay", 0))
                if reply.get("status", 200) != 200:
                    return self._send(reply["status"], {"error": {
                        "message": f"scripted {reply['status']}", "type": "server_error"}},
                        {"Retry-After": "0"})
                prompt, completion = reply.get("usage", (100, 50))
                message = {"role": "assistant", "content": reply["content"]}
                if reply.get("reasoning"):
                    message["reasoning_content"] = reply["reasoning"]
                self._send(200, {
                    "id": f"chatcmpl-{len(owner.requests)}", "object": "chat.completion",
                    "created": int(time.time()), "model": body.get("model"),
                    "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": prompt, "completion_tokens": completion,
                              "total_tokens": prompt + completion}})

        return Handler
