"""Calls into the training worker: a function run there between runs (the learning-rate
finder needs the worker's torch, data loading and device), its answer sent back over the
worker's event pipe beside the run messages but apart from them.

    call = service.call(find_for_worker, design.to_dict(), {"steps": 200})
    reply = call.result(timeout=0.05)   # None until it comes; then reply.value or reply.error

The function and its arguments must pickle (a module-level function, plain data: one that
does not is refused at once with a DesignError) and the value it returns too (one that does not
comes back as `error`); a DesignError (or anything else) it raises comes back as `error`.
"""

from __future__ import annotations

import pickle
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from engine.errors import DesignError


@dataclass(frozen=True)
class Reply:
    """The answer to call `call`: its value, or the readable reason it has none (`lost`: the
    worker ended before answering, so the call may work in the fresh one)."""

    call: int
    value: Any = None
    error: str | None = None
    lost: bool = False


def packed(function: Callable[..., Any], arguments: tuple) -> tuple:
    """A call as the worker's queue will send it, checked by the caller: a function or
    argument that cannot be sent fails here, in the caller's hands (a queue's feeder thread
    would only print it, and the call would never be answered)."""
    try:
        pickle.dumps((function, arguments))
    except Exception as err:   # pickling raises many kinds
        raise DesignError(f"{getattr(function, '__name__', function)} cannot be sent to the "
                          f"worker: {type(err).__name__}: {err}") from err
    return function, arguments


def answer(call: int, payload: tuple) -> Reply:
    """Run a `packed` call in the worker; whatever it raises becomes the reply's error."""
    function, arguments = payload
    try:
        return Reply(call, function(*arguments))
    except DesignError as err:
        return Reply(call, error=str(err))
    except Exception as err:  # noqa: BLE001 - the caller must hear back, whatever broke
        return Reply(call, error=f"{type(err).__name__}: {err}")


def send_reply(send: Callable[[Reply], None], reply: Reply) -> None:
    """Send `reply`; a value that cannot be pickled becomes an error reply instead of ending
    the worker (a connection pickles the whole message before it writes any of it)."""
    try:
        send(reply)
    except Exception as err:  # noqa: BLE001 - pickling raises many kinds
        send(Reply(reply.call, error=f"the result cannot be sent back from the worker: "
                   f"{type(err).__name__}: {err}"))


class ReplyBox:
    """The replies the worker's reader thread received, each kept until its caller takes it;
    closed when the worker's pipe ends (no more replies can come)."""

    def __init__(self) -> None:
        self._replies: dict[int, Reply] = {}
        self._changed = threading.Condition()
        self.closed = False

    def put(self, reply: Reply) -> None:
        with self._changed:
            self._replies[reply.call] = reply
            self._changed.notify_all()

    def close(self) -> None:
        with self._changed:
            self.closed = True
            self._changed.notify_all()

    def take(self, call: int, timeout: float) -> Reply | None:
        """The reply to `call` once it came (waiting up to `timeout` s), else None."""
        with self._changed:
            self._changed.wait_for(lambda: call in self._replies or self.closed, timeout)
            return self._replies.pop(call, None)
