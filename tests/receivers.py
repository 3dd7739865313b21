"""Real receivers on 127.0.0.1 for the delivery tests: SMTP and a JSON webhook.

Both keep every message they are sent and can tell apart the distinct
identities (Message-ID, Idempotency-Key), as a receiver that drops copies does.
"""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@dataclass
class Mailbox:
    messages: list[EmailMessage] = field(default_factory=list)

    async def handle_DATA(
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        raw = envelope.content
        assert isinstance(raw, bytes)
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 Message accepted"

    def identities(self) -> set[str]:
        return {str(message["Message-ID"]) for message in self.messages}


@contextmanager
def smtp_server() -> Iterator[tuple[Mailbox, int]]:
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield mailbox, port
    finally:
        controller.stop()


@dataclass
class Webhook:
    port: int = 0
    status: int = 200
    received: list[dict[str, Any]] = field(default_factory=list)

    def identities(self) -> set[str]:
        return {str(item["headers"].get("Idempotency-Key")) for item in self.received}


class _Handler(BaseHTTPRequestHandler):
    hook: Webhook

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        body = json.loads(self.rfile.read(length) or b"{}")
        hook: Webhook = self.server.hook  # type: ignore[attr-defined]
        hook.received.append(
            {"path": self.path, "headers": dict(self.headers), "body": body}
        )
        self.send_response(hook.status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        return


@contextmanager
def webhook_server(status: int = 200) -> Iterator[Webhook]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    hook = Webhook(port=server.server_address[1], status=status)
    server.hook = hook  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield hook
    finally:
        server.shutdown()
        server.server_close()
