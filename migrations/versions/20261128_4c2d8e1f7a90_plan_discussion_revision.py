"""plans count changes to their discussion

Revision ID: 4c2d8e1f7a90
Revises: 1957d4e155d3
Create Date: 2026-11-28 13:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '4c2d8e1f7a90'
down_revision = '1957d4e155d3'
branch_labels = None
depends_on = None


def upgrade():
    # Written by hand: a counter that comments and step owners move on, so that step pages
    # keep what they read of them per process until it moves (planner/pagecache.py).
    with op.batch_alter_table('plans', schema=None) as batch_op:
        batch_op.add_column(sa.Column('discussion_revision', sa.Integer(), nullable=False, server_default='0'))


def downgrade():
    with op.batch_alter_table('plans', schema=None) as batch_op:
        batch_op.drop_column('discussion_revision')
