"""Posting notifications to Slack with the official ``slack_sdk`` (``chat.postMessage``).

A ``SlackSender`` is the outbox's sender for one Slack channel (``slack:#reviews``):
each notification's body becomes a Block Kit message (``domain.slack_messages``),
posted through ``WebClient(base_url=...)``; the channel's id and the message's
``ts`` Slack answers are kept (``store.slack_posts``), so that when the task is
decided, here or anywhere else, the "decided" notification rewrites each of its
messages in place (``chat.update``): "Approved by ana at 14:02 UTC", no buttons.

The SDK's own retries are off: the outbox retries, with backoff, the same body;
Slack's ``ok: false`` answers, HTTP errors (a 429's ``Retry-After`` included) and
lost connections come back as a failed ``Sent``, never as an exception.
"""

from __future__ import annotations

import json
import time
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from placet.channels.webhook import Sent
from placet.domain.channels import SLACK, ChannelSettings, SlackTarget
from placet.domain.slack_messages import SlackMessage, SlackPost, message_for
from placet.engine import Engine

DECIDED_TYPE = "task.decided"
GONE = ("message_not_found", "channel_not_found", "cant_update_message")


def slack_client(target: SlackTarget) -> WebClient:
    """A Web API client for the target's workspace, with the outbox doing the retrying."""
    workspace = target.workspace
    return WebClient(
        token=workspace.bot_token,
        base_url=workspace.base_url,
        timeout=max(1, round(workspace.timeout)),
        retry_handlers=[],
    )


def slack_senders(channels: ChannelSettings, engine: Engine) -> dict[str, SlackSender]:
    """A sender for every Slack channel the notify lists name (placet.toml's, and those of
    kinds defined in Python)."""
    if channels.slack is None:
        return {}
    settings = engine.settings
    named = [*channels.slack.channels]
    for address in [
        *settings.notify,
        *(a for k in settings.kinds.values() for a in k.notify or ()),
    ]:
        if address.startswith(f"{SLACK}:"):
            named.append(address.partition(":")[2])
    targets = (channels.slack.target(name) for name in dict.fromkeys(named))
    return {target.address: SlackSender(target, engine) for target in targets if target}


class SlackSender:
    """Posts one Slack channel's notifications, and updates them when the task is decided."""

    def __init__(self, target: SlackTarget, engine: Engine) -> None:
        self.target = target
        self._engine = engine
        self._client = slack_client(target)

    @property
    def address(self) -> str:
        """``slack:#reviews``."""
        return self.target.address

    def send(self, message_id: str, body: str) -> Sent:
        """Post (or, for a decided task, update) one message now; how it went."""
        started = time.monotonic()
        found = json.loads(body)
        try:
            if found.get("type") == DECIDED_TYPE:
                self._decided(message_id, found)
            else:
                self._post(message_id, found, message_for(found))
        except SlackApiError as exc:
            return _refused(exc, time.monotonic() - started)
        except (SlackClientError, OSError) as exc:  # no answer: refused, reset, timed out
            error = f"could not reach Slack at {self.target.url}: {exc or type(exc).__name__}"
            return Sent(False, None, time.monotonic() - started, error)
        return Sent(True, 200, time.monotonic() - started)

    def close(self) -> None:
        """Nothing to release: each call opens its own connection (``urllib``)."""

    def _post(self, message_id: str, body: dict[str, Any], message: SlackMessage) -> None:
        answer = self._client.chat_postMessage(
            channel=self.target.channel,
            text=message.text,
            blocks=message.blocks,
            unfurl_links=False,
            unfurl_media=False,
            metadata={"event_type": "placet_notification", "event_payload": {"id": message_id}},
        )
        task_id = body.get("data", {}).get("task_id")
        if isinstance(task_id, str):
            event = str(body.get("type", "")).removeprefix("task.")
            post = SlackPost(
                str(answer["channel"]), str(answer["ts"]), task_id, _bare(message_id), event,
                time.time(),
            )  # fmt: skip
            self._engine.slack_posts().record(post)

    def _decided(self, message_id: str, body: dict[str, Any]) -> None:
        """Rewrite each message of the task with the outcome; post one if there is none."""
        message = message_for(body)
        posts = self._engine.slack_posts().for_task(str(body["data"]["task_id"]))
        if not posts:
            self._post(message_id, body, message)
            return
        for post in posts:
            try:
                self._client.chat_update(
                    channel=post.channel_id, ts=post.ts, text=message.text, blocks=message.blocks
                )
            except SlackApiError as exc:
                if exc.response.get("error") not in GONE:  # deleted since: nothing to update
                    raise


def _bare(message_id: str) -> str:
    return message_id.removeprefix("msg_")


def _refused(exc: SlackApiError, took: float) -> Sent:
    """A failed try from Slack's answer: its HTTP status and ``error``, and any Retry-After."""
    response = exc.response
    code = response.status_code
    error = response.get("error") if isinstance(response.data, dict) else None
    retry_after = None
    header = (response.headers or {}).get("Retry-After") or (response.headers or {}).get(
        "retry-after"
    )
    if isinstance(header, str) and header.isdigit():
        retry_after = float(header)
    said = f"Slack answered HTTP {code}: {error or 'no error given'}"
    return Sent(False, code, took, said, retry_after)
