from procrastinate import Blueprint, JobContext

from service.events.dispatch import dispatch as dispatch_settled
from service.tasks.runtime import resources


def blueprint() -> Blueprint:
    """Dispatches run one at a time without a job lock: each waits on the dispatcher's
    position row (events.dispatch), and starts as soon as the one before commits."""
    tasks = Blueprint()

    @tasks.task(name="dispatch", queue="events", pass_context=True)
    async def dispatch(context: JobContext) -> None:
        """Queued by every write of events (a trigger, in the writing transaction)."""
        await dispatch_settled(resources(context).sessionmaker)

    @tasks.periodic(cron="* * * * * */15")
    @tasks.task(name="dispatch_late", queue="events", queueing_lock="events:dispatch_late", pass_context=True)
    async def dispatch_late(context: JobContext, timestamp: int) -> None:
        """Events are dispatched only once settled (every older transaction ended); those
        that were not yet when their own dispatch ran are picked up here."""
        await dispatch_settled(resources(context).sessionmaker)

    return tasks
