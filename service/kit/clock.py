"""What time it is, replaceable in tests: statuses derived from dates depend on it."""

from datetime import UTC, date, datetime
from typing import Annotated, cast

from fastapi import Depends, Request


class Clock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def today(self) -> date:
        """Today's date in UTC: an application deadline is open through its whole day in UTC."""
        return self.now().date()


class FixedClock(Clock):
    def __init__(self, at: datetime):
        self.at = at

    def now(self) -> datetime:
        return self.at


async def get_clock(request: Request) -> Clock:  # async: no thread-pool hop
    return cast(Clock, request.app.state.clock)  # set by main.create_app (tests put a FixedClock)


ClockDep = Annotated[Clock, Depends(get_clock)]
