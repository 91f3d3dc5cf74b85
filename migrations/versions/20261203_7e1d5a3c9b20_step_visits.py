"""when each member last looked at each step

Revision ID: 7e1d5a3c9b20
Revises: 4c2d8e1f7a90
Create Date: 2026-12-03 09:30:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "7e1d5a3c9b20"
down_revision = "4c2d8e1f7a90"
branch_labels = None
depends_on = None


def upgrade():
    # "Changed since your last visit" is kept per step: a change is news until the member
    # has looked at its step since (planner/history/visits.py). No rows to carry over: a
    # step nobody has looked at yet falls back to the member's visit of the whole plan.
    op.create_table(
        "step_visits",
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.String(length=32), nullable=False),
        sa.Column("previous_at", sa.DateTime(), nullable=True),
        sa.Column("current_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["plans.id"], name=op.f("fk_step_visits_plan_id_plans"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_step_visits_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("plan_id", "user_id", "step", name=op.f("pk_step_visits")),
    )


def downgrade():
    op.drop_table("step_visits")
