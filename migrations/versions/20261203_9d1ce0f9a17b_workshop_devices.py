"""which device each workshop participant joined from

Revision ID: 9d1ce0f9a17b
Revises: 5e55a0c1e2b4
Create Date: 2026-12-03 12:05:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "9d1ce0f9a17b"
down_revision = "5e55a0c1e2b4"
branch_labels = None
depends_on = None


def upgrade():
    # A tag of the device each participant joined from, per session (planner/workshop/access.py),
    # so that the console can say "3 names from one device". Earlier participants have none.
    with op.batch_alter_table("workshop_participants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("device", sa.String(length=32), nullable=True))


def downgrade():
    with op.batch_alter_table("workshop_participants", schema=None) as batch_op:
        batch_op.drop_column("device")
