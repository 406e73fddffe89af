"""Publish from a script with the Python client generated from Quire's OpenAPI document.

Generate the client once (openapi-python-client from PyPI):

    openapi-python-client generate --path openapi/openapi.json \
        --output-path quire_client --meta none

Then run this script with the folder that holds `quire_client` on PYTHONPATH:

    QUIRE_URL=http://127.0.0.1:8080 QUIRE_USER=ada QUIRE_PASSWORD=... python3 publish.py

It logs in, creates a draft (with an Idempotency-Key, so a retry can never create it twice),
publishes it with an edit guarded by If-Match (a concurrent change would give 412 instead of
being overwritten), reads the post's history and deletes it. `QUIRE_TOKEN` (an API token `qk_…`)
can be used instead of a username and password.
"""

import os
import sys
import uuid

from quire_client import AuthenticatedClient, Client
from quire_client.api.auth import login
from quire_client.api.posts import create_post, delete_post, patch_post, post_history
from quire_client.models import (
    CreatePostRequest,
    LoginRequest,
    PatchPostRequest,
    PostResponse,
    PostStatus,
    Problem,
    TokenResponse,
)


def fail(what: str, answer: object) -> None:
    detail = answer.detail if isinstance(answer, Problem) else answer
    sys.exit(f"{what} failed: {detail}")


def main() -> None:
    base = os.environ.get("QUIRE_URL", "http://127.0.0.1:8080")
    token = os.environ.get("QUIRE_TOKEN")
    if not token:
        tokens = login.sync(
            client=Client(base_url=base),
            body=LoginRequest(username=os.environ["QUIRE_USER"], password=os.environ["QUIRE_PASSWORD"]),
        )
        if not isinstance(tokens, TokenResponse):
            fail("login", tokens)
        token = tokens.access_token
    api = AuthenticatedClient(base_url=base, token=token)

    created = create_post.sync_detailed(
        client=api,
        body=CreatePostRequest(title="Written by a script", body="Hello from *Python*.", tags=["scripts"]),
        idempotency_key=str(uuid.uuid4()),
    )
    post = created.parsed
    if not isinstance(post, PostResponse):
        fail("create", post)
    print(f"created {post.id} ({post.slug}), ETag {created.headers['etag']}")

    published = patch_post.sync_detailed(
        post.id,
        client=api,
        body=PatchPostRequest(title="Published by a script", status=PostStatus.PUBLISHED),
        if_match=created.headers["etag"],
        idempotency_key=str(uuid.uuid4()),
    )
    if not isinstance(published.parsed, PostResponse):
        fail("publish", published.parsed)
    print(f"published as {published.parsed.title!r}, ETag {published.headers['etag']}")

    history = post_history.sync(post.id, client=api)
    if isinstance(history, Problem) or history is None:
        fail("history", history)
    types = [event.type_ for event in history.events]
    print("history:", ", ".join(types))
    if types != ["PostCreated", "PostUpdated", "PostPublished"]:
        sys.exit(f"unexpected history {types}")

    deleted = delete_post.sync_detailed(post.id, client=api, if_match=published.headers["etag"])
    if not isinstance(deleted.parsed, PostResponse) or deleted.parsed.deleted_at is None:
        fail("delete", deleted.parsed)
    print(f"deleted {post.id}; its history stays in the log")


if __name__ == "__main__":
    main()
