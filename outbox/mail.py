"""An email as a JSON payload and back: what the outbox stores for a message to send."""

from __future__ import annotations

import base64
import email
from email.mime.base import MIMEBase
from typing import Any

from django.core.mail import EmailMessage, EmailMultiAlternatives


def _b64(content: bytes | str) -> str:
    raw = content.encode() if isinstance(content, str) else content
    return base64.b64encode(raw).decode("ascii")


def to_payload(message: EmailMessage) -> dict[str, Any]:
    attachments: list[dict[str, Any]] = []
    for attachment in message.attachments:
        if isinstance(attachment, MIMEBase):
            attachments.append({"mime": _b64(attachment.as_bytes())})
        else:
            filename, content, mimetype = attachment
            attachments.append(
                {
                    "filename": filename,
                    "content": _b64(content),
                    "text": isinstance(content, str),
                    "mimetype": mimetype,
                }
            )
    return {
        "subject": str(message.subject),
        "body": str(message.body),
        "from_email": message.from_email,
        "to": list(message.to),
        "cc": list(message.cc),
        "bcc": list(message.bcc),
        "reply_to": list(message.reply_to),
        "headers": dict(message.extra_headers),
        "content_subtype": message.content_subtype,
        "alternatives": [
            [str(content), mimetype] for content, mimetype in getattr(message, "alternatives", [])
        ],
        "attachments": attachments,
    }


def from_payload(payload: dict[str, Any], connection: Any = None) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        subject=payload["subject"],
        body=payload["body"],
        from_email=payload["from_email"],
        to=payload["to"],
        cc=payload["cc"],
        bcc=payload["bcc"],
        reply_to=payload["reply_to"],
        headers=payload["headers"],
        connection=connection,
    )
    message.content_subtype = payload.get("content_subtype", "plain")
    for content, mimetype in payload["alternatives"]:
        message.attach_alternative(content, mimetype)
    for attachment in payload["attachments"]:
        if "mime" in attachment:
            part = email.message_from_bytes(base64.b64decode(attachment["mime"]))
            message.attach(part)  # type: ignore[call-overload]
            continue
        raw = base64.b64decode(attachment["content"])
        data: bytes | str = raw.decode() if attachment["text"] else raw
        message.attach(attachment["filename"], data, attachment["mimetype"])
    return message


def recipients_stream(payload: dict[str, Any]) -> str:
    """Mail to the same addresses goes out in the order it was written."""
    import hashlib

    addresses = sorted({a.lower() for a in [*payload["to"], *payload["cc"], *payload["bcc"]]})
    return "mail:" + hashlib.sha256("\n".join(addresses).encode()).hexdigest()[:32]
