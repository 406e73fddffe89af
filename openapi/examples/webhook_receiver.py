"""Receive Quire's webhooks and verify them with the official Standard Webhooks library.

    pip install standardwebhooks
    QUIRE_URL=http://127.0.0.1:8080 QUIRE_USER=ada QUIRE_PASSWORD=... python3 webhook_receiver.py

It starts a receiver on 127.0.0.1 (so Quire needs `webhooks.allow_private_addresses = true`),
registers it for `post.published` (admins only), publishes a post, and checks the delivery
with `standardwebhooks.Webhook(secret).verify(body, headers)`: the same check any receiver in
any language makes with its Standard Webhooks library. Exits non-zero if it fails.
"""

import json
import os
import queue
import sys
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, HTTPServer

from standardwebhooks.webhooks import Webhook

BASE = os.environ.get("QUIRE_URL", "http://127.0.0.1:8080")
received = queue.Queue()


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        received.put((body, {k.lower(): v for k, v in self.headers.items()}))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def call(method, path, body=None, token=None, headers=None):
    request = urllib.request.Request(BASE + path, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    data = json.dumps(body).encode() if body is not None else None
    with urllib.request.urlopen(request, data, timeout=30) as response:
        text = response.read()
        return json.loads(text) if text else None


def main():
    server = HTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    login = {"username": os.environ["QUIRE_USER"], "password": os.environ["QUIRE_PASSWORD"]}
    token = call("POST", "/api/v1/auth/login", login)["access_token"]
    url = f"http://127.0.0.1:{server.server_address[1]}/quire"
    hook = call("POST", "/api/v1/webhooks", {"url": url, "events": ["post.published"]}, token)
    post = call("POST", "/api/v1/posts", {"title": "Verified by standardwebhooks", "body": "hi"}, token)
    call("PATCH", f"/api/v1/posts/{post['id']}", {"status": "published"}, token,
         {"If-Match": f"\"{post['version']}\""})
    try:
        body, headers = received.get(timeout=30)
    finally:
        call("DELETE", f"/api/v1/webhooks/{hook['id']}", None, token)
    payload = Webhook(hook["secret"]).verify(body, headers)
    assert payload["type"] == "post.published", payload
    assert payload["data"]["post_id"] == post["id"], payload
    print(f"standardwebhooks verified {headers['webhook-id']} ({payload['type']})")


if __name__ == "__main__":
    try:
        main()
    except Exception as error:  # noqa: BLE001 - a script: say what failed and exit non-zero
        print(f"webhook check failed: {error!r}", file=sys.stderr)
        sys.exit(1)
