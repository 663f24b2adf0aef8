"""Reviews carry the hash of the audit entry that signs them; users record their last sign-in.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("reviews", sa.Column("audit_hash", sa.String(64), nullable=True))
    op.create_index("ix_reviews_patient_time", "reviews", ["patient_id", "reviewed_at"])
    # Backfill: reviews signed before this revision get the hash of their review.record audit entry.
    op.execute(
        "UPDATE reviews SET audit_hash = (SELECT a.entry_hash FROM audit_log a WHERE a.action = 'review.record' "
        "AND a.entity_type = 'review' AND a.entity_id = CAST(reviews.id AS VARCHAR(64)))"
    )


def downgrade() -> None:
    op.drop_index("ix_reviews_patient_time", table_name="reviews")
    with op.batch_alter_table("reviews") as batch:
        batch.drop_column("audit_hash")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("last_login_at")
