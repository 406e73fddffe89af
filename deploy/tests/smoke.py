#!/usr/bin/env python3
"""End-to-end smoke test of a `quire` binary, native or under qemu-user (Python stdlib only).

Starts `quire serve` on a free 127.0.0.1 port with a temporary data folder, logs in, publishes
a post, edits it, checks the git commits in `<data>/content.git` and the rendered page at
`/posts/<slug>/`, then stops the server with SIGTERM and expects a clean exit.

With `--posts N` it then publishes N more posts, waits until git has caught up and the last
page is rendered, and reports the server's resident memory (VmRSS/VmHWM of the process it
started: under qemu-user that includes qemu's own overhead).

    smoke.py --bin target/cross/aarch64-unknown-linux-gnu/cross/quire \
        --runner "qemu-aarch64 -L /usr/aarch64-linux-gnu" [--config quire.toml] [--posts 1000]
"""

import argparse
import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

ADMIN = ("smoke", "smoke-password-1")


class Failure(Exception):
    pass


def log(msg):
    print(f"   {msg}", flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Http:
    def __init__(self, base):
        self.base = base
        self.token = None

    def call(self, method, path, body=None, headers=None, timeout=60):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method)
        if body is not None:
            req.add_header("Content-Type", "application/json")
        if self.token:
            req.add_header("Authorization", f"Bearer {self.token}")
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read()

    def expect(self, status, method, path, body=None, headers=None):
        got, hdrs, raw = self.call(method, path, body, headers)
        if got != status:
            raise Failure(f"{method} {path}: expected {status}, got {got}: {raw[:500]!r}")
        is_json = (hdrs.get("Content-Type") or "").startswith(("application/json", "application/problem+json"))
        return hdrs, (json.loads(raw) if raw and is_json else raw)


def wait_for(what, check, timeout):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            result = check()
            if result:
                return result
        except OSError as e:
            last = e
        time.sleep(0.2)
    raise Failure(f"timed out after {timeout}s waiting for {what}" + (f" ({last})" if last else ""))


def git(data, *args):
    return subprocess.run(
        ["git", "--git-dir", os.path.join(data, "content.git"), *args],
        capture_output=True, text=True, check=False,
    )


def memory(pid):
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                fields[key] = int(value.split()[0]) // 1024
    return fields


def start(args, data, port):
    cmd = shlex.split(args.runner) + [args.bin, "serve", "--listen", f"127.0.0.1:{port}", "--data-dir", data]
    if args.config:
        cmd += ["--config", args.config]
    # Quire reads every QUIRE_* variable as a setting: start from none of the caller's.
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUIRE_")}
    env.update(QUIRE_ADMIN_USER=ADMIN[0], QUIRE_ADMIN_PASSWORD=ADMIN[1],
               QUIRE_LOG="warn", QUIRE_API__WRITE_RATE_PER_MINUTE="0")
    logfile = open(os.path.join(os.path.dirname(data), "quire.log"), "wb")
    proc = subprocess.Popen(cmd, env=env, stdout=logfile, stderr=subprocess.STDOUT)
    return proc, logfile


def publish_and_edit(http, data):
    t0 = time.monotonic()
    _, tokens = http.expect(200, "POST", "/api/v1/auth/login", {"username": ADMIN[0], "password": ADMIN[1]})
    http.token = tokens["access_token"]
    log(f"login ok ({time.monotonic() - t0:.1f}s: argon2id)")

    hdrs, post = http.expect(201, "POST", "/api/v1/posts", {
        "title": "Hello from a Pi", "body": "First *draft* of the smoke post.",
        "tags": ["pi", "smoke"], "status": "published",
    })
    if not hdrs.get("Location") or not hdrs.get("ETag"):
        raise Failure(f"201 without Location/ETag: {hdrs}")
    post_id, slug, etag = post["id"], post["slug"], hdrs["ETag"]
    log(f"published {slug} ({post_id}), ETag {etag}")

    hdrs, post = http.expect(200, "PATCH", f"/api/v1/posts/{post_id}",
                             {"body": "Edited on ARM: **smoke-edit-marker**."}, {"If-Match": etag})
    if post["version"] < 2:
        raise Failure(f"edit did not bump the version: {post}")
    log(f"edited, now version {post['version']}, ETag {hdrs.get('ETag')}")
    stale, _, _ = http.call("PATCH", f"/api/v1/posts/{post_id}", {"title": "x"}, {"If-Match": etag})
    if stale != 412:
        raise Failure(f"a stale If-Match got {stale}, expected 412")
    return post_id, slug


def check_git(data, post_id, slug):
    def commits():
        out = git(data, "log", "--format=%H%x00%B%x01", "main")
        if out.returncode != 0:  # the repository or `main` may not exist yet
            raise OSError(f"git log: {out.stderr.strip()}")
        mine = [c for c in out.stdout.split("\x01") if f"Post-Id: {post_id}" in c]
        return mine if len(mine) >= 2 else None

    mine = wait_for("two git commits of the post", commits, 60)
    files = git(data, "ls-tree", "-r", "--name-only", "main").stdout.split()
    path = next((f for f in files if f.startswith("content/posts/") and f.endswith(f"/{slug}.md")), None)
    if not path:
        raise Failure(f"content/posts/<year>/{slug}.md not in main: {files}")
    text = git(data, "show", f"main:{path}").stdout
    if "smoke-edit-marker" not in text:
        raise Failure(f"{path} in git does not have the edit:\n{text}")
    log(f"git: {len(mine)} commits with Post-Id {post_id}; {path} has the edit")


def check_site(http, slug):
    def page():
        status, _, raw = http.call("GET", f"/posts/{slug}/")
        return raw if status == 200 and b"smoke-edit-marker" in raw else None

    raw = wait_for(f"the edited page at /posts/{slug}/", page, 60)
    if b"Hello from a Pi" not in raw:
        raise Failure(f"/posts/{slug}/ lacks the title")
    log(f"site: /posts/{slug}/ served with the edit ({len(raw)} bytes)")


def bench(http, data, proc, count, clients):
    before = memory(proc.pid)
    t0 = time.monotonic()

    def one(i):
        http.expect(201, "POST", "/api/v1/posts", {
            "title": f"Bench post {i}", "body": f"Post number {i}.\n\n" + "Some *Markdown* text. " * 40,
            "tags": [f"tag{i % 20}", "bench"], "status": "published",
        })

    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(one, range(count)))
    took = time.monotonic() - t0
    log(f"published {count} posts with {clients} clients in {took:.1f}s ({count / took:.0f}/s)")
    after_writes = memory(proc.pid)

    def caught_up():
        _, status = http.expect(200, "GET", "/api/v1/status")
        lag = status["git"]["lag"]
        return lag == 0 and http.call("GET", f"/posts/bench-post-{count - 1}/")[0] == 200

    wait_for("git and site to catch up", caught_up, 900)
    log(f"git and site caught up {time.monotonic() - t0:.1f}s after the first post")
    settled = memory(proc.pid)
    du = subprocess.run(["du", "-sm", data], capture_output=True, text=True).stdout.split()[0]
    result = {"posts": count + 1, "publish_per_s": round(count / took),
              "rss_mb_before": before["VmRSS"], "rss_mb_after_writes": after_writes["VmRSS"],
              "rss_mb_settled": settled["VmRSS"], "peak_rss_mb": settled["VmHWM"], "data_mb": int(du)}
    print("BENCH " + json.dumps(result), flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bin", required=True)
    p.add_argument("--runner", default="", help="command prefix, e.g. 'qemu-aarch64 -L /usr/aarch64-linux-gnu'")
    p.add_argument("--config", help="a quire.toml to start with (listen and data dir are overridden)")
    p.add_argument("--posts", type=int, default=0, help="then publish this many posts and report memory")
    p.add_argument("--clients", type=int, default=4)
    p.add_argument("--startup-timeout", type=float, default=90)
    args = p.parse_args()

    tmp = tempfile.mkdtemp(prefix="quire-smoke-")
    data = os.path.join(tmp, "data")
    port = free_port()
    http = Http(f"http://127.0.0.1:{port}")
    t0 = time.monotonic()
    proc, logfile = start(args, data, port)
    ok = False
    try:
        def healthy():
            if proc.poll() is not None:
                raise Failure(f"quire exited with {proc.returncode}")
            return http.call("GET", "/healthz", timeout=5)[0] == 200

        wait_for("/healthz", healthy, args.startup_timeout)
        log(f"healthy after {time.monotonic() - t0:.1f}s on port {port}")
        wait_for("/readyz", lambda: http.call("GET", "/readyz", timeout=5)[0] == 200, 60)
        post_id, slug = publish_and_edit(http, data)
        check_git(data, post_id, slug)
        check_site(http, slug)
        if args.posts:
            bench(http, data, proc, args.posts, args.clients)
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=60)
        if code != 0:
            raise Failure(f"quire exited with {code} after SIGTERM")
        log("SIGTERM: clean exit 0")
        ok = True
    except (Failure, subprocess.TimeoutExpired) as e:
        print(f"FAIL: {e}", file=sys.stderr)
    except Exception as e:  # noqa: BLE001 - report with the server's log
        print(f"FAIL: {type(e).__name__}: {e}", file=sys.stderr)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        logfile.close()
        if not ok:
            with open(os.path.join(tmp, "quire.log"), errors="replace") as f:
                sys.stderr.write("--- quire log (last 60 lines) ---\n" + "".join(f.readlines()[-60:]))
        subprocess.run(["rm", "-rf", tmp], check=False)
    print(f"   smoke {'passed' if ok else 'FAILED'} in {time.monotonic() - t0:.1f}s", flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
