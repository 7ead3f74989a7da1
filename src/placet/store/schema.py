"""The relational schema, described once for SQLite and PostgreSQL.

JSON lives in text columns that Placet encodes itself, so both dialects store
byte-identical documents and the audit hashes match after a migration.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

metadata = sa.MetaData()

KEYED = sa.text("idempotency_key IS NOT NULL")  # the tasks the key index holds
UNLOGGED = sa.text("event_count <> logged_count")
TIMED = sa.text("due_at IS NOT NULL")  # tasks with a reminder, escalation or deadline due
CONTROLS = sa.text(
    "action IN ('pause', 'resume')"
)  # the kill switch's security events  # tasks with events the log lacks
STORE_ONLY = {"tasks": ("logged_count",)}  # columns that are no field of the record
# Indexes that only some dialects have, by name: the dialect that has each.
ONLY_ON = {"ix_tasks_status_id": "postgresql", "ix_examples_terms": "postgresql"}
ID = sa.String(26)  # ULIDs: time-ordered, so inserts land at the end of the index

tasks = sa.Table(
    "tasks",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("kind", sa.String(200), nullable=False),
    sa.Column("input", sa.Text, nullable=False),
    sa.Column("requester", sa.String(200), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("attempt", sa.Integer, nullable=False),
    sa.Column("max_attempts", sa.Integer, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.Column("head_hash", sa.String(64), nullable=False),
    sa.Column("event_count", sa.Integer, nullable=False),
    sa.Column("idempotency_key", sa.String(200), nullable=True),
    sa.Column("current_draft_id", ID, nullable=True),
    sa.Column("final_output", sa.Text, nullable=True),
    sa.Column("lease_owner", sa.String(200), nullable=True),
    sa.Column("lease_expires_at", sa.Float, nullable=True),
    sa.Column("pending_feedback", sa.Text, nullable=True),
    # When the task's next timer is due (migration 0011); NULL for most tasks.
    sa.Column("due_at", sa.Float, nullable=True),
    # Who took the item to review and until when (migration 0013; domain/holds.py).
    sa.Column("held_by", sa.String(200), nullable=True),
    sa.Column("held_until", sa.Float, nullable=True),
    # The supervisor's reading of the current draft (migration 0014; domain/supervision.py).
    sa.Column("risk", sa.Integer, nullable=True),
    sa.Column("flags", sa.String(1000), nullable=True),
    # The store's own bookkeeping, not a field of a Task: how many of the task's
    # events the global audit log covers (migration 0009). A task whose count
    # differs waits for the sealer, found through ix_tasks_unlogged; the hot
    # path writes no queue row for its events.
    sa.Column("logged_count", sa.Integer, nullable=False, server_default="0"),
    # PostgreSQL's claims walk (status, id) and lock the first row they can
    # (store/postgres.py). SQLite reaches a status through (kind, status, id) and
    # the kinds present (statements.EVERY_KIND): a second index holding the
    # status was one more page written at every status change (migration 0006).
    sa.Index("ix_tasks_status_id", "status", "id").ddl_if(dialect=ONLY_ON["ix_tasks_status_id"]),
    sa.Index("ix_tasks_kind_status_id", "kind", "status", "id"),
    # A requester's own tasks, newest first, without scanning everyone's.
    sa.Index("ix_tasks_requester_id", "requester", "id"),
    # Unique among the tasks that have a key (migration 0005). Most have none,
    # and an entry for each of them was one more page written per submit.
    sa.Index(
        "ux_tasks_idempotency_key",
        "idempotency_key",
        unique=True,
        sqlite_where=KEYED,
        postgresql_where=KEYED,
    ),
    # The tasks with a timer to fire, soonest first: only those (a partial index).
    sa.Index("ix_tasks_due_at", "due_at", sqlite_where=TIMED, postgresql_where=TIMED),
    # The tasks the sealer has yet to log: few at any time, so a small index.
    sa.Index("ix_tasks_unlogged", "id", sqlite_where=UNLOGGED, postgresql_where=UNLOGGED),
)

drafts = sa.Table(
    "drafts",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("task_id", ID, sa.ForeignKey("tasks.id"), nullable=False),
    sa.Column("attempt", sa.Integer, nullable=False),
    sa.Column("provider", sa.String(200), nullable=False),
    sa.Column("model", sa.String(200), nullable=False),
    sa.Column("messages", sa.Text, nullable=False),
    sa.Column("output", sa.Text, nullable=False),
    sa.Column("prompt_tokens", sa.Integer, nullable=False),
    sa.Column("completion_tokens", sa.Integer, nullable=False),
    sa.Column("latency_ms", sa.Float, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("feedback", sa.Text, nullable=True),
    sa.Column("seed", sa.Integer, nullable=True),  # migration 0012; None before it
    sa.Index("ix_drafts_task_id", "task_id", "attempt"),
)

decisions = sa.Table(
    "decisions",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("task_id", ID, sa.ForeignKey("tasks.id"), nullable=False),
    sa.Column("draft_id", ID, sa.ForeignKey("drafts.id"), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("role", sa.String(50), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("text", sa.Text, nullable=True),
    sa.Column("diff", sa.Text, nullable=True),
    sa.Column("feedback", sa.Text, nullable=True),
    sa.Column("reason", sa.Text, nullable=True),
    sa.Index("ix_decisions_task_id", "task_id"),
)

events = sa.Table(
    "events",
    metadata,
    sa.Column("task_id", ID, sa.ForeignKey("tasks.id"), primary_key=True),
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("type", sa.String(50), nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
)

# -- examples from approved work (migration 0015; domain/examples.py) ----------------------
# One row per approved task of a kind that puts earlier approved work into its
# prompts: the words of its input that are searched, and whether a reviewer
# marked it "not an example". Written in the transaction that approves the task
# or records the mark; proved from the task's chain by placet audit verify.

TEXT_SEARCH_CONFIG = "english"  # PostgreSQL's: English stemming and stop words
examples = sa.Table(
    "examples",
    metadata,
    # SQLite's full-text index names rows by an integer that VACUUM keeps: this one.
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("task_id", ID, sa.ForeignKey("tasks.id"), nullable=False),
    sa.Column("kind", sa.String(200), nullable=False),
    sa.Column("excluded", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("body", sa.Text, nullable=False),
    # PostgreSQL's: the body's tsvector, set by a trigger (POSTGRESQL_ONLY) and read by
    # the search through a GIN index. Stored, not an index on an expression: a search
    # that walks the latest rows then costs no to_tsvector per row. NULL on SQLite.
    sa.Column("terms", sa.Text().with_variant(postgresql.TSVECTOR(), "postgresql")),
    sa.Index("ux_examples_task_id", "task_id", unique=True),
    # A kind's latest examples, for a task whose input has no words to search by.
    sa.Index("ix_examples_kind_id", "kind", "id"),
    sa.Index("ix_examples_terms", "terms", postgresql_using="gin").ddl_if(
        dialect=ONLY_ON["ix_examples_terms"]
    ),
)
# Columns a database derives itself, which a copy leaves to the target (store/copy.py).
DERIVED = {"examples": ("terms",)}
POSTGRESQL_ONLY = (
    "CREATE TRIGGER examples_terms BEFORE INSERT OR UPDATE ON examples FOR EACH ROW "
    f"EXECUTE FUNCTION tsvector_update_trigger(terms, 'pg_catalog.{TEXT_SEARCH_CONFIG}', body)",
)
# SQLite searches the body through an FTS5 table whose content is the examples table,
# kept current by triggers. SQLAlchemy describes no trigger nor FTS5 table, so the
# statements that make them are kept here (migration 0015 runs the same; a test
# compares them).
EXAMPLES_FTS = "examples_fts"
SQLITE_ONLY = (
    "CREATE VIRTUAL TABLE examples_fts USING fts5(body, content='examples', "
    "content_rowid='id', tokenize='porter unicode61 remove_diacritics 2')",
    "CREATE TRIGGER examples_fts_insert AFTER INSERT ON examples BEGIN "
    "INSERT INTO examples_fts (rowid, body) VALUES (new.id, new.body); END",
    "CREATE TRIGGER examples_fts_delete AFTER DELETE ON examples BEGIN "
    "INSERT INTO examples_fts (examples_fts, rowid, body) VALUES ('delete', old.id, old.body); "
    "END",
    "CREATE TRIGGER examples_fts_update AFTER UPDATE OF body ON examples BEGIN "
    "INSERT INTO examples_fts (examples_fts, rowid, body) VALUES ('delete', old.id, old.body); "
    "INSERT INTO examples_fts (rowid, body) VALUES (new.id, new.body); END",
)

# -- the global audit log ----------------------------------------------------------
# Every event (and security event) is written to audit_pending in the transaction
# that makes it; a sealer later moves pending entries into audit_log, each with a
# position and a hash chained to the one before (keyed with the audit key), so a
# deleted task, a cut tail or a rollback leaves a logged entry without its row.

audit_pending = sa.Table(
    "audit_pending",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    # event, security; legacy_event and legacy_security: queued by migration 0008
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("task_id", ID, nullable=True),
    sa.Column("seq", sa.Integer, nullable=True),
    sa.Column("ref", ID, nullable=True),  # a security event's id
    sa.Column("entry_hash", sa.String(64), nullable=False),
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("position", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("task_id", ID, nullable=True),
    sa.Column("seq", sa.Integer, nullable=True),
    sa.Column("ref", ID, nullable=True),
    sa.Column("entry_hash", sa.String(64), nullable=False),
    sa.Column("legacy", sa.Boolean, nullable=False),  # an event from before the log
    sa.Column("key_id", sa.String(16), nullable=True),  # the key that chained it; None: none
    sa.Column("sealed_at", sa.Float, nullable=False),
    sa.Column("chain_hash", sa.String(64), nullable=False),
    sa.Index("ix_audit_log_task_seq", "task_id", "seq"),
)

# -- accounts (the dashboard and the API) -------------------------------------------

users = sa.Table(
    "users",
    metadata,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("password_hash", sa.String(200), nullable=False),
    sa.Column("roles", sa.String(200), nullable=False),  # comma-separated role names
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()),
    # A session cookie carries the generation it began in; raising it ends them all
    # (migration 0007).
    sa.Column("session_generation", sa.Integer, nullable=False, server_default="0"),
)

api_tokens = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("user_name", sa.String(100), sa.ForeignKey("users.name"), nullable=False),
    sa.Column("label", sa.String(200), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("revoked_at", sa.Float, nullable=True),
    sa.Index("ix_api_tokens_user_name", "user_name"),
)

security_events = sa.Table(
    "security_events",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("at", sa.Float, nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("action", sa.String(100), nullable=False),
    sa.Column("outcome", sa.String(20), nullable=False),  # allowed, refused, failed
    sa.Column("target", sa.String(200), nullable=True),
    sa.Column("detail", sa.Text, nullable=True),
    sa.Column("remote", sa.String(100), nullable=True),
    sa.Index("ix_security_events_actor_at", "actor", "at"),
    # The pauses and resumes (the kill switch, migration 0010): read often, rare.
    sa.Index("ix_security_events_controls", "id", sqlite_where=CONTROLS, postgresql_where=CONTROLS),
)

# -- outcome handlers (on_approved / on_rejected; see placet.store.deliveries) -----------

handlers = sa.Table(
    "handlers",
    metadata,
    sa.Column("name", sa.String(200), primary_key=True),
    sa.Column("kind", sa.String(200), nullable=False),
    sa.Column("outcome", sa.String(20), nullable=False),  # approved or rejected
    sa.Column("first_seen_at", sa.Float, nullable=False),
    # Every matching decision with an id up to here has its delivery row.
    sa.Column("swept_id", ID, nullable=False),
)

handler_deliveries = sa.Table(
    "handler_deliveries",
    metadata,
    sa.Column("handler", sa.String(200), primary_key=True),
    sa.Column("decision_id", ID, sa.ForeignKey("decisions.id"), primary_key=True),
    sa.Column("task_id", ID, sa.ForeignKey("tasks.id"), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),  # pending, delivered, failed
    sa.Column("attempts", sa.Integer, nullable=False),
    # When it may be tried next; while a worker runs it, when that worker's lease ends.
    sa.Column("next_try_at", sa.Float, nullable=False),
    sa.Column("lease_owner", sa.String(200), nullable=True),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("finished_at", sa.Float, nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Index("ix_handler_deliveries_status_next_try_at", "status", "next_try_at"),
    sa.Index("ix_handler_deliveries_task_id", "task_id"),
)

# -- notifications: the outbox of messages to channels (see placet.store.notifications) --
# A notification is written in the transaction of the change it tells of, and sent after
# commit, at least once; migration 0016.

PENDING_NOTICE = sa.text("status = 'pending'")  # to send, sending, or waiting for a retry
FAILED_NOTICE = sa.text("status = 'failed'")  # gave up; waiting for a person

notifications = sa.Table(
    "notifications",
    metadata,
    sa.Column("id", ID, primary_key=True),  # the webhook-id is msg_<id>, on every try
    sa.Column("task_id", ID, sa.ForeignKey("tasks.id"), nullable=False),
    sa.Column("event_seq", sa.Integer, nullable=False),  # the task event it tells of
    sa.Column("event", sa.String(30), nullable=False),  # awaiting_review, reminder, ...
    sa.Column("channel", sa.String(200), nullable=False),  # webhook:ops
    sa.Column("recipient", sa.String(300), nullable=False),  # as shown: a webhook's host
    sa.Column("body", sa.Text, nullable=False),  # the JSON sent, fixed when recorded
    sa.Column("status", sa.String(20), nullable=False),  # pending, delivered, failed
    sa.Column("attempts", sa.Integer, nullable=False),
    # When it may be tried next; while a worker sends it, when that worker's lease ends.
    sa.Column("next_try_at", sa.Float, nullable=False),
    sa.Column("lease_owner", sa.String(200), nullable=True),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("finished_at", sa.Float, nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("last_code", sa.Integer, nullable=True),  # the receiver's last HTTP status
    sa.Index("ix_notifications_task_id", "task_id"),
    # Only the few still to send, soonest first: what a worker claims from.
    sa.Index(
        "ix_notifications_pending",
        "next_try_at",
        sqlite_where=PENDING_NOTICE,
        postgresql_where=PENDING_NOTICE,
    ),
    # Only those that gave up, newest first: `placet channels failed`.
    sa.Index(
        "ix_notifications_failed",
        "finished_at",
        sqlite_where=FAILED_NOTICE,
        postgresql_where=FAILED_NOTICE,
    ),
)

# How each channel's sending has gone lately: what the dashboard's banner, /readyz and
# the metrics read to say a channel has been failing (one small row per channel).
channel_health = sa.Table(
    "channel_health",
    metadata,
    sa.Column("channel", sa.String(200), primary_key=True),
    sa.Column("failing_since", sa.Float, nullable=True),  # first failure after the last success
    sa.Column("last_ok_at", sa.Float, nullable=True),
    sa.Column("last_failed_at", sa.Float, nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("failures", sa.Integer, nullable=False),  # failed tries in a row
)

# -- e-mail addresses of accounts, and the signed links used (migration 0017) ----------

account_emails = sa.Table(
    "account_emails",
    metadata,
    sa.Column("user_name", sa.String(100), sa.ForeignKey("users.name"), primary_key=True),
    sa.Column("email", sa.String(320), nullable=False),
)

# A signed link (an e-mail's approve / reject, an inbound callback URL) is used once:
# its row is claimed by primary key before the decision, in any process.
link_uses = sa.Table(
    "link_uses",
    metadata,
    sa.Column("link_id", sa.String(80), primary_key=True),
    sa.Column("task_id", sa.String(26), nullable=False),
    sa.Column("account", sa.String(100), nullable=False),
    sa.Column("action", sa.String(20), nullable=False),
    sa.Column("used_at", sa.Float, nullable=False),
    sa.Column("outcome", sa.Text, nullable=True),  # what the use decided, in words
)

# -- Slack: the messages posted for each task (see placet.store.slack_posts) --------------
# Kept so a task's messages can be updated in place when it is decided; migration 0018.
slack_posts = sa.Table(
    "slack_posts",
    metadata,
    sa.Column("channel_id", sa.String(40), primary_key=True),  # Slack's id of the channel
    sa.Column("ts", sa.String(40), primary_key=True),  # the message's id within it
    sa.Column("task_id", ID, sa.ForeignKey("tasks.id"), nullable=False),
    sa.Column("notification_id", ID, nullable=False),  # the notification that posted it
    sa.Column("event", sa.String(30), nullable=False),  # awaiting_review, reminder, ...
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Index("ix_slack_posts_task_id", "task_id"),
)

# What each worker last knew of each hosted API's rate limits (providers/pacing.py):
# `placet status` reads it. One small row per worker and endpoint, rewritten every
# few seconds while the worker drafts; rows of workers gone quiet are dropped later.
provider_pace = sa.Table(  # migration 0019
    "provider_pace",
    metadata,
    sa.Column("endpoint", sa.String(500), primary_key=True),
    sa.Column("worker", sa.String(200), primary_key=True),
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.Column("pace", sa.Text, nullable=False),  # JSON: limits, headroom, rates, 429s
)
