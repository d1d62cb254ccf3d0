"""Models and migrations must not drift: `alembic check` after `alembic upgrade head`, on each backend."""

from alembic import command
from cli.database import alembic_config


def test_alembic_check_after_upgrade(database_url):
    # database_url is already upgraded to head by the fixture; check compares models with it.
    command.check(alembic_config(database_url))
