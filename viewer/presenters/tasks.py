"""Background work on the qasync loop: tasks the presenters start, all cancelled at shutdown."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from db.errors import user_message

log = logging.getLogger(__name__)


class TaskSet:
    """Owns the tasks it starts: a finished one is forgotten, a bug in one is logged."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    @property
    def idle(self) -> bool:
        """No task of this set is running."""
        return not self._tasks

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            user_message(exc, log, "a background task")

    async def cancel_all(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def error_text(exc: BaseException) -> str:
    """What the user reads about a failure (a bug is logged with its traceback)."""
    return user_message(exc, log, "a background action")
