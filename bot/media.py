"""Photos sent in the chat, fetched from WeChat after the answer and saved under var/media.

Run right after the webhook answers (a thread) and by the worker as a sweep, so a photo
whose download failed or whose process died is fetched later. Saving twice is harmless:
the row moves to `saved` once, and the "saved" message is keyed by the photo.

A download is read to at most approvals.record.photos.MAX_BYTES (10 MB, as cadres' uploads) and
kept only if its content is a picture (approvals.record.photos.image_kind), under its real
extension. Anything else is not written: the row is `failed` and the farmer is told why, in
the chat (the outbox's `media_refused`), so that they can send it again as a photo.
"""

from __future__ import annotations

import hashlib
import logging
from typing import TYPE_CHECKING

from sqlalchemy import func, select, update

from approvals.record.db import AnyRow, rowcount
from approvals.record.models import MediaFile, MediaStatus
from approvals.record.photos import MAX_BYTES, image_kind
from bot.wechat_adapter import WeChatApiError
from notifications import outbox

if TYPE_CHECKING:  # the wiring passes these in; bot never imports it at run time
    from fangfan.services import Services

log = logging.getLogger(__name__)
MAX_FAILURES = 3


def save_pending(services: Services, *, openid: str | None = None, limit: int = 20) -> int:
    """Download what is pending (for one user, or all); returns how many were saved."""
    with services.database.session_scope() as s:
        query = select(MediaFile.id, MediaFile.openid, MediaFile.media_id).where(
            MediaFile.status == MediaStatus.PENDING).order_by(MediaFile.id).limit(limit)
        if openid:
            query = query.where(MediaFile.openid == openid)
        pending = list(s.execute(query))
    saved = 0
    api = services.wechat_api()
    for row in pending:
        try:
            content = api.download_media(row.media_id, MAX_BYTES)
        except WeChatApiError as err:
            log.warning("照片（编号%s）没能下载：%s", row.id, err)
            with services.database.session_scope() as s:
                s.execute(update(MediaFile).where(MediaFile.id == row.id)
                          .values(error=str(err)[:500]))
            continue
        kind = image_kind(content) if len(content) <= MAX_BYTES else None
        if kind is None:
            _refuse(services, row, "too_large" if len(content) > MAX_BYTES else "not_image")
            continue
        folder = services.settings.media_dir / hashlib.sha256(row.openid.encode()).hexdigest()[:16]
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{hashlib.sha256(row.media_id.encode()).hexdigest()[:24]}.{kind[0]}"
        path.write_bytes(content)
        with services.database.session_scope() as s:
            moved = rowcount(s.execute(update(MediaFile).where(
                MediaFile.id == row.id, MediaFile.status == MediaStatus.PENDING).values(
                status=MediaStatus.SAVED, path=str(path), error=None)))
            if moved:  # count the photos of the same application (or draft) saved so far
                case_id = s.scalar(select(MediaFile.case_id).where(MediaFile.id == row.id))
                count = s.scalar(select(func.count()).select_from(MediaFile).where(
                    MediaFile.openid == row.openid, MediaFile.status == MediaStatus.SAVED,
                    MediaFile.case_id.is_(None) if case_id is None
                    else MediaFile.case_id == case_id))
                outbox.enqueue(s.connection(), [{
                    "key": f"media:{row.id}", "recipient": row.openid, "event": "media_saved",
                    "params": {"count": count}}], services.clock.now())
                saved += 1
    return saved


def _refuse(services: Services, row: AnyRow, reason: str) -> None:
    """Not a picture, or larger than 10 MB: nothing is written, the row is `failed` (never
    fetched again) and the farmer is told once (the message is keyed by the photo)."""
    log.warning("照片（编号%s）不保存：%s", row.id, reason)
    with services.database.session_scope() as s:
        moved = rowcount(s.execute(update(MediaFile).where(
            MediaFile.id == row.id, MediaFile.status == MediaStatus.PENDING).values(
            status=MediaStatus.FAILED, error=reason)))
        if moved:
            outbox.enqueue(s.connection(), [{
                "key": f"media:{row.id}", "recipient": row.openid, "event": "media_refused",
                "params": {"reason": reason}}], services.clock.now())
