"""The tables of invoices: issued monthly invoices, their lines, and the months closed."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from mcp_console.backend.db.base import Base, UtcDateTime

# Amounts are kept to four places: every currency's minor unit fits (at most three).
AMOUNT = Numeric(20, 4)


class Invoice(Base):
    """A user's or a team's invoice for one calendar month, issued once and never changed.

    Names are copied at issue: the invoice reads the same after a user, team or
    deployment is renamed or removed (so no foreign keys to them).
    """

    __tablename__ = "invoices"

    # The invoice's number, the same as its draft's: ``INV-202612-U000042``.
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    month: Mapped[str] = mapped_column(String(7))
    subject_kind: Mapped[str] = mapped_column(String(8))
    subject_id: Mapped[int] = mapped_column(Integer)
    subject_name: Mapped[str] = mapped_column(String(200))
    currency: Mapped[str] = mapped_column(String(3))
    requests: Mapped[int] = mapped_column(BigInteger)
    subtotal: Mapped[Decimal] = mapped_column(AMOUNT)
    tax: Mapped[Decimal] = mapped_column(AMOUNT)
    total: Mapped[Decimal] = mapped_column(AMOUNT)
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (
        UniqueConstraint("month", "subject_kind", "subject_id"),
        CheckConstraint("subject_kind IN ('user', 'team')", name="subject_kind"),
        Index("ix_invoices_subject", "subject_kind", "subject_id"),
    )


class InvoiceLine(Base):
    """One line of an issued invoice: a deployment's calls at one price (and tool)."""

    __tablename__ = "invoice_lines"

    invoice_id: Mapped[str] = mapped_column(
        ForeignKey("invoices.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    deployment: Mapped[str] = mapped_column(String(300))
    service: Mapped[str] = mapped_column(String(200))
    # The tool of a line priced per tool; empty for the service's own price.
    tool: Mapped[str] = mapped_column(String(200))
    price_model: Mapped[str] = mapped_column(String(16))
    unit_price: Mapped[Decimal] = mapped_column(Numeric(20, 10))
    requests: Mapped[int] = mapped_column(BigInteger)
    errors: Mapped[int] = mapped_column(BigInteger)
    free_requests: Mapped[int] = mapped_column(BigInteger)
    charged: Mapped[int] = mapped_column(BigInteger)
    amount: Mapped[Decimal] = mapped_column(AMOUNT)


class ClosedMonth(Base):
    """A calendar month whose invoices were issued (its row makes closing it idempotent)."""

    __tablename__ = "billing_month_closes"

    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    closed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    invoices: Mapped[int] = mapped_column(Integer)
