"""sessions kept on the server, and invitations an existing account accepts

Revision ID: 5e55a0c1e2b4
Revises: 7e1d5a3c9b20
Create Date: 2026-12-03 12:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "5e55a0c1e2b4"
down_revision = "7e1d5a3c9b20"
branch_labels = None
depends_on = None


def upgrade():
    # Each log-in is a row (planner/accounts/sessions.py); the cookie carries a token whose
    # SHA-256 is token_hash. No rows to carry over: sessions signed before this revision name
    # none, so everyone logs in once more.
    op.create_table(
        "account_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("keep", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_account_sessions_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_account_sessions_token_hash")),
    )
    with op.batch_alter_table("account_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_account_sessions_user_id"), ["user_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_account_sessions_expires_at"), ["expires_at"], unique=False)

    # An invitation sent to an address: `email`, and the account that used it then, if any.
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email", sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column("invitee_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_invitations_invitee_id"), ["invitee_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_invitations_invitee_id_users"), "users", ["invitee_id"], ["id"], ondelete="CASCADE"
        )


def downgrade():
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_invitations_invitee_id_users"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_invitations_invitee_id"))
        batch_op.drop_column("invitee_id")
        batch_op.drop_column("email")
    with op.batch_alter_table("account_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_account_sessions_expires_at"))
        batch_op.drop_index(batch_op.f("ix_account_sessions_user_id"))
    op.drop_table("account_sessions")
