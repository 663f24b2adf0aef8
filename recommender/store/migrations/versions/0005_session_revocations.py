"""Signed-out app sessions, shared by every app process and kept across restarts.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "session_revocations",
        sa.Column("nonce", sa.String(64), primary_key=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_session_revocations_expires_at", "session_revocations", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_session_revocations_expires_at", table_name="session_revocations")
    op.drop_table("session_revocations")
