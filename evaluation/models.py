"""The expert pool (the full pool, draws and committees come with the expert-draw work)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core import clock
from core.db import Base


class Expert(Base):
    __tablename__ = "experts"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), unique=True, default=None)
    name: Mapped[str] = mapped_column(String(100))
    specialties: Mapped[list[Any]] = mapped_column(JSON, default=list)  # specialty codes
    title: Mapped[str] = mapped_column(String(60), default="")  # professional title, e.g. senior engineer
    years: Mapped[int] = mapped_column(Integer, default=0)
    employer_code: Mapped[str] = mapped_column(String(18), default="")
    employer_name: Mapped[str] = mapped_column(String(200), default="")
    region: Mapped[str] = mapped_column(String(100), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    status: Mapped[str] = mapped_column(String(20), default="active")
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
