"""The expert pool: experts, their specialties from the catalogue, employment history, declared
conflicts, unavailable dates and status history (rules.md §3). Draws and committees live in
evaluation/draw_models.py."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from accounts.models import User
from core import clock
from core.db import Base


class ExpertStatus(enum.StrEnum):
    active = "active"
    suspended = "suspended"
    retired = "retired"
    penalised = "penalised"  # a penalty in bidding (P12): never drawn while it stands


class ConflictKind(enum.StrEnum):
    relative_employer = "relative_employer"  # a near relative works for the organisation
    shareholding = "shareholding"  # the expert or a relative holds shares in it
    other_interest = "other_interest"


class Specialty(Base):
    """The hierarchical specialty catalogue: a code's parent is its code minus the last two characters
    (A -> A01 -> A0101). Experts in a child specialty serve a quota on its parent."""

    __tablename__ = "specialties"

    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("specialties.code"), index=True, default=None)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(150))
    kind: Mapped[str] = mapped_column(String(10))  # works, goods, services


class Expert(Base):
    __tablename__ = "experts"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), unique=True, default=None)
    name: Mapped[str] = mapped_column(String(100))
    # the national id or expert certificate number: the import's natural key, never shown publicly
    id_number: Mapped[str | None] = mapped_column(String(40), unique=True, default=None)
    title: Mapped[str] = mapped_column(String(60), default="")  # professional title, e.g. 高级工程师
    title_level: Mapped[str] = mapped_column(String(20), default="")  # senior, associate_senior, intermediate
    years: Mapped[int] = mapped_column(Integer, default=0)
    employer_code: Mapped[str] = mapped_column(String(18), default="", index=True)
    employer_name: Mapped[str] = mapped_column(String(200), default="")
    region: Mapped[str] = mapped_column(String(100), default="", index=True)
    phone: Mapped[str] = mapped_column(String(40), default="")
    email: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(20), default=ExpertStatus.active.value, index=True)
    status_since: Mapped[date | None] = mapped_column(Date, default=None)
    status_until: Mapped[date | None] = mapped_column(Date, default=None)  # a suspension or penalty may end
    status_reason: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now, onupdate=clock.now)

    specialties: Mapped[list[ExpertSpecialty]] = relationship(
        back_populates="expert", cascade="all, delete-orphan", order_by="ExpertSpecialty.specialty_code"
    )
    employments: Mapped[list[ExpertEmployment]] = relationship(
        back_populates="expert", cascade="all, delete-orphan", order_by="ExpertEmployment.start"
    )
    conflicts: Mapped[list[ExpertConflict]] = relationship(
        back_populates="expert", cascade="all, delete-orphan"
    )
    unavailable: Mapped[list[ExpertUnavailability]] = relationship(
        back_populates="expert", cascade="all, delete-orphan", order_by="ExpertUnavailability.start"
    )
    status_history: Mapped[list[ExpertStatusChange]] = relationship(
        back_populates="expert", cascade="all, delete-orphan", order_by="ExpertStatusChange.id"
    )

    user: Mapped[User | None] = relationship(foreign_keys=[user_id])  # the expert's login account, if linked

    @property
    def specialty_codes(self) -> list[str]:
        return [s.specialty_code for s in self.specialties]


class ExpertSpecialty(Base):
    __tablename__ = "expert_specialties"
    __table_args__ = (Index("ix_expert_specialties_code_expert", "specialty_code", "expert_id"),)

    expert_id: Mapped[int] = mapped_column(ForeignKey("experts.id", ondelete="CASCADE"), primary_key=True)
    specialty_code: Mapped[str] = mapped_column(ForeignKey("specialties.code"), primary_key=True)

    expert: Mapped[Expert] = relationship(back_populates="specialties")


class ExpertEmployment(Base):
    """Current and past employers with dates: the 3-year look-back of GR9 reads them."""

    __tablename__ = "expert_employments"

    id: Mapped[int] = mapped_column(primary_key=True)
    expert_id: Mapped[int] = mapped_column(ForeignKey("experts.id", ondelete="CASCADE"), index=True)
    org_code: Mapped[str] = mapped_column(String(18), index=True)  # unified social credit code
    org_name: Mapped[str] = mapped_column(String(200), default="")
    start: Mapped[date | None] = mapped_column(Date, default=None)
    end: Mapped[date | None] = mapped_column(Date, default=None)  # None: still employed there
    position: Mapped[str] = mapped_column(
        String(100), default=""
    )  # employee, director, controlling shareholder...

    expert: Mapped[Expert] = relationship(back_populates="employments")


class ExpertConflict(Base):
    """A declared interest: a relative's employer, a shareholding, another economic interest (P12)."""

    __tablename__ = "expert_conflicts"

    id: Mapped[int] = mapped_column(primary_key=True)
    expert_id: Mapped[int] = mapped_column(ForeignKey("experts.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    org_code: Mapped[str] = mapped_column(String(18), index=True)
    org_name: Mapped[str] = mapped_column(String(200), default="")
    start: Mapped[date | None] = mapped_column(Date, default=None)
    end: Mapped[date | None] = mapped_column(Date, default=None)
    note: Mapped[str] = mapped_column(Text, default="")
    declared_at: Mapped[datetime] = mapped_column(default=clock.now)

    expert: Mapped[Expert] = relationship(back_populates="conflicts")


class ExpertUnavailability(Base):
    __tablename__ = "expert_unavailability"

    id: Mapped[int] = mapped_column(primary_key=True)
    expert_id: Mapped[int] = mapped_column(ForeignKey("experts.id", ondelete="CASCADE"), index=True)
    start: Mapped[date] = mapped_column(Date)
    end: Mapped[date] = mapped_column(Date)  # inclusive
    reason: Mapped[str] = mapped_column(String(200), default="")

    expert: Mapped[Expert] = relationship(back_populates="unavailable")


class ExpertStatusChange(Base):
    __tablename__ = "expert_status_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    expert_id: Mapped[int] = mapped_column(ForeignKey("experts.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(20))
    since: Mapped[date] = mapped_column(Date)
    until: Mapped[date | None] = mapped_column(Date, default=None)
    reason: Mapped[str] = mapped_column(String(500), default="")
    changed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    changed_at: Mapped[datetime] = mapped_column(default=clock.now)

    expert: Mapped[Expert] = relationship(back_populates="status_history")
