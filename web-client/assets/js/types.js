// Shapes shared by the editor's modules (JSDoc only; this module exports nothing at run time).
// The API shapes mirror openapi/openapi.json (web-client/tests/api_types.rs checks them).

/**
 * @typedef {'draft' | 'published' | 'scheduled'} Status
 *
 * @typedef {object} Post  A post as the API returns it.
 * @property {string} id
 * @property {string} slug
 * @property {string} title
 * @property {string} body
 * @property {string[]} tags
 * @property {Status} status
 * @property {string | null} publish_at
 * @property {string} created_at
 * @property {string} updated_at
 * @property {number} version
 * @property {string} author
 * @property {string | null} deleted_at
 * @property {Record<string, unknown>} [properties]  Extra properties a Micropub client sent (kept as sent; the editor leaves them alone).
 *
 * @typedef {object} Problem  RFC 9457 problem details.
 * @property {string} type
 * @property {string} title
 * @property {number} status
 * @property {string} detail
 * @property {Post} [current]
 * @property {string} [field]
 * @property {string} [missing]  For a 403: the right that is missing.
 * @property {MergeConflict[]} [conflicts]  For a 409 merge conflict: each overlapping change.
 * @property {Record<string, unknown>} [keep_mine]  For a 409 merge conflict: the change keeping the
 *   author's side of every conflict and both sides' other changes, to send to `current` (see merge.js).
 *
 * @typedef {object} MergeConflict  One change made on both sides (see `Base-Version`).
 * @property {string} field  `title`, `slug`, `status`, `publish_at` or `body` (one per hunk).
 * @property {string | null} base
 * @property {string | null} mine
 * @property {string | null} theirs
 * @property {number} [line]  For `body`: where the hunk starts.
 *
 * @typedef {object} TokenInfo  An API token (the secret is never shown again).
 * @property {string} id
 * @property {string} name
 * @property {string} user
 * @property {string[]} scopes
 * @property {string} created_at
 * @property {string | null} expires_at
 * @property {string | null} last_used_at
 *
 * @typedef {object} SetupStatus  Whether the first admin is still to be created.
 * @property {boolean} pending
 *
 * @typedef {object} StatusResponse  `GET /api/v1/status`: how far the projections of the log have come.
 * @property {number} head  The seq of the newest durable event.
 * @property {GitStatus} git
 * @property {ProjectionState} site
 * @property {unknown} webhooks  Counts of webhooks and deliveries (not used by the editor).
 * @property {ProjectionState} publish
 * @property {unknown[]} dataset_fetches  Scheduled dataset fetches (not used by the editor).
 *
 * @typedef {object} ProjectionState  Where a projection of the log stands.
 * @property {boolean} enabled
 * @property {number | null} position
 * @property {number | null} lag
 * @property {number} failures
 * @property {string | null} last_error
 *
 * @typedef {object} GitStatus  The git projection (`content.git`) and its mirrors.
 * @property {boolean} enabled
 * @property {number | null} position
 * @property {number | null} lag
 * @property {number} max_lag
 * @property {string | null} last_error
 * @property {MirrorStatus[]} mirrors  One per `[[git.remotes]]`.
 *
 * @typedef {object} MirrorStatus  A remote that `main` is pushed to.
 * @property {string} name
 * @property {string} url  Without credentials.
 * @property {number | null} pushed_seq
 * @property {number} failures  Failed pushes since the last success (retried with growing pauses).
 * @property {string | null} last_error  What `git push` said.
 * @property {string | null} last_attempt_at
 * @property {string | null} last_success_at
 * @property {string | null} next_retry_at
 * @property {PullStatus | null} [pull]  Pulls from a forge (`pull = true`); absent when off.
 *
 * @typedef {object} PullStatus  How pulling a forge's branch into Quire went.
 * @property {string} branch  The forge's branch.
 * @property {boolean | null} ok  Null before the first pull.
 * @property {string | null} last_pull_at
 * @property {string | null} last_error
 * @property {boolean} diverged  Both sides changed the same files (`conflicts`): nothing imported, pushes refused.
 * @property {string[]} conflicts  The paths both sides changed, e.g. `content/posts/2026/hello.md`.
 * @property {string[]} problems  Why files were refused, each starting with its path.
 * @property {string | null} commit
 * @property {number} imported_events
 *
 * @typedef {object} Tokens  What login and refresh answer.
 * @property {string} access_token
 * @property {string} refresh_token
 * @property {string} token_type
 * @property {number} expires_in
 *
 * @typedef {object} Session  The stored login.
 * @property {string} username
 * @property {string | null} access_token
 * @property {string | null} refresh_token
 * @property {number} expires_at  Milliseconds since the epoch.
 * @property {number} lifetime  Seconds the access token was issued for.
 *
 * @typedef {object} Fields  What the editor edits.
 * @property {string} title
 * @property {string} body
 * @property {string[]} tags
 * @property {Status} status
 * @property {string | null} publish_at
 * @property {string} slug  Empty: let the server derive it.
 *
 * @typedef {'create' | 'update' | 'delete' | 'restore' | 'upload' | 'copy'} ChangeKind
 *   `copy`: keeps the losing side of a conflict in the post's history on the server.
 *
 * @typedef {'queued' | 'sending' | 'sent' | 'conflict' | 'failed' | 'superseded' | 'discarded'} ItemState
 *
 * @typedef {object} OutboxItem  One composed change, sent until the server has it exactly once.
 * @property {number} [seq]  Order of composition (IndexedDB key).
 * @property {string} key  The Idempotency-Key, made when the change was composed.
 * @property {ChangeKind} kind
 * @property {string} post  The post's key: its server id, or `local-…` for a post created here.
 * @property {string} user  Who composed it; only their login sends it.
 * @property {Record<string, unknown> | null} body  The JSON body (fixed at composition).
 * @property {number | 'chain'} ifMatch  The version the change started from, or `chain`: the version the previous change of this post produces.
 * @property {Fields | null} local  The post as the author saw it after this change (for the conflict view).
 * @property {string} label  Human description, e.g. `edit “Hello”`.
 * @property {ItemState} state
 * @property {number} attempts
 * @property {number} nextAt  Not before this time (ms) unless forced.
 * @property {number} createdAt
 * @property {number} updatedAt
 * @property {{method: string, path: string, ifMatch: string | null, baseVersion?: number, body?: Record<string, unknown> | null} | null} request  Resolved once, before the first send; every retry repeats it exactly, except that a 412 turns an edit's `If-Match` into `Base-Version` once (for the server to merge). `body`: the JSON body with the URLs of the images it shows, once they are uploaded.
 * @property {Post | null} result  The server's answer once sent.
 * @property {Problem | null} problem  The last problem (conflict or failure).
 * @property {string} note  Why it waits, as the program saw it (shown only under "details").
 * @property {WaitReason | null} [reason]  Why a queued item waits; the views put it in words.
 * @property {string[]} [after]  Keys (of posts, uploads…) whose earlier changes must be on the
 *   server first, besides its own post's: e.g. the upload a post shows.
 * @property {Upload} [upload]  For an `upload`: the image, kept here until it is on the server.
 * @property {UploadedMedia} [uploaded]  For a sent `upload`: what the server stored.
 *
 * @typedef {object} Upload  An image waiting in the outbox.
 * @property {Blob} blob
 * @property {string} contentType
 * @property {string} name  The file's name, as the author's device had it.
 * @property {string} alt
 *
 * @typedef {object} UploadedMedia  The part of the server's media answer the editor uses.
 * @property {string} id
 * @property {string} url  Where the image is served, to put in Markdown.
 *
 * @typedef {'unreachable' | 'server' | 'busy' | 'login' | 'merging'} WaitReason
 *   `unreachable`: no answer (network down, server down, response lost); `server`: a 5xx, 408 or
 *   429; `busy`: the same key is still being worked on; `login`: waits for a login; `merging`:
 *   sent again with Base-Version.
 *
 * @typedef {object} Draft  Autosaved editor state.
 * @property {string} key  The post's key.
 * @property {Fields} fields
 * @property {number | null} base  The version the edit started from.
 * @property {number} savedAt
 * @property {ConflictCopy} [copy]  Set on a conflict copy: the author's side that lost.
 *
 * @typedef {object} ConflictCopy  What a conflict resolved with the server's version dropped.
 * @property {string} of  The post's server id.
 * @property {number} version  The server's version that was kept.
 * @property {Fields} fields  The author's version as it was (the draft's title is marked).
 */

export {};
