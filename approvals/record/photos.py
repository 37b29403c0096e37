"""Photos of a case: the farmer's from the chat (`MediaFile`, fetched by bot/media.py) and
those a cadre takes with the phone for a stage (hospital bills, the house, the notice on the
board).

A cadre's photo is stored under media_dir/cases/<case>/ (a revisit's under
media_dir/households/<household>/) with a random name recorded in its task's data (the
revisit's row), written before that record commits (removed if it is refused), so a saved
record never names a missing file; the files are served only through the case page's
permission check. A photo is recognised by its content (`image_kind`, the filetype library),
named with its real extension and served with its real type.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import filetype
from sqlalchemy import select
from sqlalchemy.orm import Session

from approvals.record.errors import Refused
from approvals.record.models import MediaFile, MediaStatus

MAX_BYTES = 10 * 1024 * 1024
IMAGES = {"jpg": "image/jpeg", "png": "image/png", "gif": "image/gif", "webp": "image/webp"}


def image_kind(content: bytes | str) -> tuple[str, str] | None:
    """(extension, MIME type) of a picture every phone browser shows, by its content (bytes,
    or the path of a file); None for anything else, or no such file."""
    if isinstance(content, str) and not Path(content).is_file():
        return None
    kind = filetype.guess(content)
    return (kind.extension, kind.mime) if kind and IMAGES.get(kind.extension) == kind.mime \
        else None


@dataclass(frozen=True)
class Upload:
    """Photos checked and named, then written with what they belong to: a saved record never
    names a missing file."""

    files: dict[str, bytes]

    @classmethod
    def of(cls, contents: list[bytes]) -> Upload:
        """Anything but a picture, or too large, is refused before anything is written."""
        files = {}
        for content in contents:
            if len(content) > MAX_BYTES:
                raise Refused("照片太大（超过10MB），请压缩后重新上传。")
            kind = image_kind(content)
            if kind is None:
                raise Refused("只能上传照片（JPG、PNG 格式）。")
            files[f"{secrets.token_hex(12)}.{kind[0]}"] = content
        return cls(files)

    @property
    def names(self) -> list[str]:
        return list(self.files)

    def store(self, media_dir: Path, owner_id: int, *, kind: str = "cases") -> None:
        """Under media_dir/<kind>/<owner>/: a case's photos, or a household's (revisits)."""
        folder = media_dir / kind / str(owner_id)
        folder.mkdir(parents=True, exist_ok=True)
        for name, content in self.files.items():
            (folder / name).write_bytes(content)

    @contextmanager
    def stored(self, media_dir: Path, owner_id: int, *, kind: str = "cases") -> Iterator[None]:
        """Written before a record that commits by itself (a decision on PostgreSQL) names
        them; removed again if it is refused."""
        self.store(media_dir, owner_id, kind=kind)
        try:
            yield
        except BaseException:
            for name in self.files:
                task_photo(media_dir, owner_id, name, kind=kind).unlink(missing_ok=True)
            raise


def task_photo(media_dir: Path, case_id: int, name: str, *, kind: str = "cases") -> Path:
    return media_dir / kind / str(case_id) / Path(name).name


def farmer_photos(s: Session, case_id: int) -> list[tuple[int, str]]:
    """(id, path) of the chat photos attached to the case and saved."""
    return [(r.id, r.path) for r in s.execute(
        select(MediaFile.id, MediaFile.path).where(
            MediaFile.case_id == case_id, MediaFile.status == MediaStatus.SAVED)
        .order_by(MediaFile.id))]
