from procrastinate import Blueprint, JobContext

from service.events.dispatch import dispatch as dispatch_settled
from service.tasks.runtime import resources


def blueprint() -> Blueprint:
    tasks = Blueprint()

    @tasks.task(name="dispatch", queue="events", lock="events:dispatch", pass_context=True)
    async def dispatch(context: JobContext) -> None:
        """Queued by every write of events (a trigger, in the writing transaction)."""
        await dispatch_settled(resources(context).sessionmaker)

    @tasks.periodic(cron="* * * * * */15")
    @tasks.task(name="dispatch_late", queue="events", lock="events:dispatch", pass_context=True)
    async def dispatch_late(context: JobContext, timestamp: int) -> None:
        """Events are dispatched only once settled (every older transaction ended); those
        that were not yet when their own dispatch ran are picked up here."""
        await dispatch_settled(resources(context).sessionmaker)

    return tasks
