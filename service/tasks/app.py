"""The task queue: procrastinate on the service's own PostgreSQL.

Chosen over Celery, RQ or arq (each needs a broker beside the database) and Dramatiq: jobs
live in the same database as the data, so a job is queued in the transaction that needs it
(tasks/repository.py), workers on any machine take them with row locks, and retries,
periodic tasks, locks and dead-worker detection are built in. Each domain declares its tasks
in a Blueprint of its own `tasks.py`; `build` gathers them under the domain's name
(`events:dispatch`, `upkeep:purge`, ...).
"""

from collections.abc import Callable

import procrastinate
from psycopg.conninfo import make_conninfo
from sqlalchemy.engine import URL

from service.bulk.tasks import blueprint as bulk_tasks
from service.calendar.tasks import blueprint as calendar_tasks
from service.events import dispatch
from service.events.tasks import blueprint as event_tasks
from service.saved_searches.alerts import announce_matches
from service.tasks.upkeep import blueprint as upkeep_tasks
from service.webhooks.deliveries import fan_out as webhook_fan_out
from service.webhooks.tasks import blueprint as webhook_tasks

BLUEPRINTS: dict[str, Callable[[], procrastinate.Blueprint]] = {
    "bulk": bulk_tasks,
    "calendar": calendar_tasks,
    "events": event_tasks,
    "upkeep": upkeep_tasks,
    "webhooks": webhook_tasks,
}
# Alerts first: the saved_search.matched events they write reach webhooks in a later batch.
dispatch.consumers.extend([announce_matches, webhook_fan_out])


def conninfo(url: URL) -> str:
    """A libpq connection string for the database the service uses (a socket folder as host
    for the embedded PostgreSQL)."""
    host = url.query.get("host") or url.host
    return make_conninfo(
        host=str(host) if host else None, port=url.port, dbname=url.database, user=url.username,
        password=url.password, application_name="partnerships-worker",
    )


def build(url: URL, pool_size: int) -> procrastinate.App:
    """The queue on the database at url, with every domain's tasks. Its connections use
    psycopg, procrastinate's driver: it listens for new jobs with LISTEN on a connection of
    its own, outside SQLAlchemy's pool."""
    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=conninfo(url), min_size=1, max_size=pool_size))
    for namespace, blueprint in BLUEPRINTS.items():
        app.add_tasks_from(blueprint(), namespace=namespace)
    return app
