"""County → township → village. `path` ("/1/3/7/") makes "within jurisdiction" a prefix test."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from approvals.record.db import Base
from approvals.record.definitions import Level


class Place(Base):
    __tablename__ = "places"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    level: Mapped[Level] = mapped_column(String(16))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("places.id"))
    path: Mapped[str] = mapped_column(String(128), index=True, default="")

    parent: Mapped[Place | None] = relationship(remote_side=[id])

    def contains(self, other: Place) -> bool:
        return other.path.startswith(self.path)

    def ancestor(self, level: Level) -> Place:
        place: Place | None = self
        while place is not None and place.level != level:
            place = place.parent
        if place is None:
            raise LookupError(f"{self.name} has no {level} above it")
        return place
