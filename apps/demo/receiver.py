"""The bank's side of the webhooks in the demo: a small HTTP server on loopback, in
the demo's process, standing for the alert channel and the training pipeline's CI. It
keeps what it gets so that the summary can show the signed retraining request."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from apps.monitoring.webhooks import SIGNATURE_HEADER, signature_valid


class PipelineReceiver:
    def __init__(self) -> None:
        self.received: list[tuple[str, dict[str, str], bytes]] = []
        self.secret = ""
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.received.append((self.path, dict(self.headers), body))
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args: object) -> None:
                pass  # the summary says what came

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/{name}"

    def signed(self, name: str) -> list[bytes]:
        """Bodies posted to ``/name`` whose signature checks with the policy's secret."""
        return [
            body
            for path, headers, body in self.received
            if path == f"/{name}"
            and signature_valid(
                secret=self.secret, header=headers.get(SIGNATURE_HEADER, ""), body=body
            )
        ]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
