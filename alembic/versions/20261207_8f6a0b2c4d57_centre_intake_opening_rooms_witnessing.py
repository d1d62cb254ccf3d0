"""The trading centre's records (issue 16): project intake (进场登记), its opening rooms and their bookings,
the staff's witnessing (见证) of openings and evaluation sessions

Revision ID: 8f6a0b2c4d57
Revises: 3a1b5c7d9e02
Create Date: 2026-12-07 15:01:30.552437
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db


revision = '8f6a0b2c4d57'
down_revision = '3a1b5c7d9e02'  # chained after the results' publicity at merge
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('opening_rooms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_opening_rooms')),
    sa.UniqueConstraint('number', name=op.f('uq_opening_rooms_number'))
    )
    op.create_table('opening_bookings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tender_id', sa.Integer(), nullable=False),
    sa.Column('room_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('booked_by', sa.Integer(), nullable=False),
    sa.Column('booked_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['booked_by'], ['users.id'], name=op.f('fk_opening_bookings_booked_by_users')),
    sa.ForeignKeyConstraint(['room_id'], ['opening_rooms.id'], name=op.f('fk_opening_bookings_room_id_opening_rooms')),
    sa.ForeignKeyConstraint(['tender_id'], ['tenders.id'], name=op.f('fk_opening_bookings_tender_id_tenders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_opening_bookings')),
    sa.UniqueConstraint('tender_id', name=op.f('uq_opening_bookings_tender_id'))
    )
    with op.batch_alter_table('opening_bookings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_opening_bookings_room_id'), ['room_id'], unique=False)

    op.create_table('project_intakes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=40), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('purchaser_id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=20), nullable=False),
    sa.Column('funding', sa.String(length=20), nullable=False),
    sa.Column('planned_publication', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('planned_opening', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('remarks', sa.Text(), nullable=False),
    sa.Column('registered_by', sa.Integer(), nullable=False),
    sa.Column('registered_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('tender_id', sa.Integer(), nullable=True),
    sa.Column('linked_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['agency_id'], ['organisations.id'], name=op.f('fk_project_intakes_agency_id_organisations')),
    sa.ForeignKeyConstraint(['purchaser_id'], ['organisations.id'], name=op.f('fk_project_intakes_purchaser_id_organisations')),
    sa.ForeignKeyConstraint(['registered_by'], ['users.id'], name=op.f('fk_project_intakes_registered_by_users')),
    sa.ForeignKeyConstraint(['tender_id'], ['tenders.id'], name=op.f('fk_project_intakes_tender_id_tenders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project_intakes')),
    sa.UniqueConstraint('reference', name=op.f('uq_project_intakes_reference')),
    sa.UniqueConstraint('tender_id', name=op.f('uq_project_intakes_tender_id'))
    )
    with op.batch_alter_table('project_intakes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_project_intakes_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_project_intakes_purchaser_id'), ['purchaser_id'], unique=False)

    op.create_table('witness_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tender_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('witness_id', sa.Integer(), nullable=False),
    sa.Column('witness_name', sa.String(length=100), nullable=False),
    sa.Column('witnessed_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('remarks', sa.Text(), nullable=False),
    sa.Column('recorded_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tender_id'], ['tenders.id'], name=op.f('fk_witness_records_tender_id_tenders')),
    sa.ForeignKeyConstraint(['witness_id'], ['users.id'], name=op.f('fk_witness_records_witness_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_witness_records'))
    )
    with op.batch_alter_table('witness_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_witness_records_tender_id'), ['tender_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('witness_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_witness_records_tender_id'))

    op.drop_table('witness_records')
    with op.batch_alter_table('project_intakes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_project_intakes_purchaser_id'))
        batch_op.drop_index(batch_op.f('ix_project_intakes_agency_id'))

    op.drop_table('project_intakes')
    with op.batch_alter_table('opening_bookings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_opening_bookings_room_id'))

    op.drop_table('opening_bookings')
    op.drop_table('opening_rooms')
