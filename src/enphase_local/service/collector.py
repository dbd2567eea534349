"""The collector: reads one or many gateways for as long as it runs, feeds the sinks.

Why one task per gateway: a slow or unreachable gateway must never delay
the others. Each task connects, then calls `Envoy.update()` every
`interval_s` (the client's cadence plan decides which endpoints are worth
asking), and hands each snapshot to every sink. Live frames come from
`Envoy.live()` while the gateway's live mode wants it (`live_demand`),
otherwise one per snapshot (`live_fallback.frame_from_snapshot`).

One HTTP session for all gateways (`gateway_session`, made in the running
loop at the first connect and closed by `close_envoys()`): connections are
kept between updates with small TLS buffers, and each `Envoy` gets it from
its target's factory (its authenticator attaches its own token or digest,
the session keeps no cookies). Few gateways connect at once
(`max_connecting`, bench/RESULTS.md (5b)); updates are bounded apart (`max_updating`).

Each gateway's health (`health`: connected, stale, unreachable,
auth_failed, certificate_changed) is logged once when a bad state starts,
with what to do, and once when it ends; each change goes to the sinks as an
`Event` (``recovered`` when a bad state ends); so do new warnings. The
collector is the sinks' `Hub`. `poll_once()` makes one round without the
timers, for tests and benchmarks on an injected clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import EnvoyAuthError, EnvoyCertificateChangedError, EnvoyError
from .health import BAD_STATES, Silence, advice, ended, reason
from .live_demand import LiveDemand, supervise
from .live_fallback import frame_from_snapshot
from .sinks import Event, Sink

if TYPE_CHECKING:
    import aiohttp

    from ..client import Envoy
    from ..models.live_frame import LiveFrame
    from ..models.snapshot import Snapshot

__all__ = ["Collector", "GatewayState", "Target"]

_LOGGER = logging.getLogger("enphase_local.service")


@dataclass(frozen=True, slots=True)
class Target:
    """One gateway to read: a name for logs and a factory of its (unconnected) `Envoy`.

    The factory gets the collector's shared session: pass it as ``Envoy(session=...)``.
    """

    name: str
    make: Callable[[aiohttp.ClientSession], Envoy]
    # follow `Envoy.live()` frames in run(): "on" / True, "off" / False (one frame per
    # snapshot), or "auto": while a dashboard client watches it (`live_demand`)
    live: bool | str = True

    @property
    def mode(self) -> str:
        return "on" if self.live is True else "off" if self.live is False else self.live


@dataclass(slots=True)
class GatewayState:
    """What the collector knows of one gateway right now (the dashboard and /healthz read it)."""

    name: str
    serial: str | None = None
    # connecting | connected | stale | unreachable | auth_failed | certificate_changed
    state: str = "connecting"
    since: float | None = None  # collector clock when `state` began
    host: str = ""
    last_ok: float | None = None  # collector clock of the last good update
    last_error: str | None = None
    snapshot: Snapshot | None = None
    frame: LiveFrame | None = None
    follows_live: bool = False  # run() follows `Envoy.live()` for it now (`live_demand`)
    live_failed: bool = False  # `Envoy.live()` ended with an error: snapshots give frames
    good_updates: int = 0  # updates that gave a snapshot (live resumes after one)
    wake: asyncio.Event = field(default_factory=asyncio.Event, repr=False)  # `live_demand`
    warnings: frozenset[str] = frozenset()
    silence: Silence = field(default_factory=Silence, repr=False)
    envoy: Envoy | None = field(default=None, repr=False)


class Collector:
    """Runs `targets` into `sinks` until `stop()` (or SIGTERM / Ctrl-C via the CLI)."""

    def __init__(
        self,
        targets: Sequence[Target],
        sinks: Sequence[Sink],
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        interval_s: float = 60.0,
        stale_after_s: float = 180.0,
        retry_after_s: float = 30.0,
        unreachable_after_s: float | None = None,
        max_connecting: int = 8,
        max_updating: int = 32,
        closers: Sequence[Callable[[], None]] = (),
    ) -> None:
        """`closers`: called when the clients close (the held probe caches' `flush`).

        `unreachable_after_s`: silence that makes a gateway unreachable (3 intervals).
        """
        self.targets = list(targets)
        self.sinks = list(sinks)
        self.clock = clock
        self._sleep = sleep
        self.interval_s = interval_s
        self.stale_after_s = stale_after_s
        self.retry_after_s = retry_after_s
        self.unreachable_after_s = unreachable_after_s or 3 * interval_s
        # unheard this long, a gateway is asked `/info` (health.Silence.unheard_for): a
        # failure then is seen by the next update at the latest, `unreachable_after_s` in
        self.ask_after_s = max(interval_s, self.unreachable_after_s - interval_s)
        self.states = {t.name: GatewayState(t.name) for t in self.targets}
        self.demand = LiveDemand()  # who watches which gateway's live data (the dashboard)
        for state in self.states.values():
            self.demand.listen(state.wake)
        self._stopping = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._sinks_started = False
        self.started = asyncio.Event()  # set once every sink has started
        # at most this many gateways connecting (TLS handshake, /info, probe) at once, and
        # at most that many updating: the event loop stays responsive, the heap small
        self._connecting = asyncio.Semaphore(max_connecting)
        self._updating = asyncio.Semaphore(max_updating)
        self._session: aiohttp.ClientSession | None = None
        self._closers = tuple(closers)

    # -- Hub ----------------------------------------------------------------------

    def serials(self) -> tuple[str, ...]:
        return tuple(s.serial for s in self.states.values() if s.serial is not None)

    def envoy(self, serial: str) -> Envoy:
        for state in self.states.values():
            if state.serial == serial and state.envoy is not None:
                return state.envoy
        raise KeyError(serial)

    def by_serial(self, serial: str) -> GatewayState:
        for state in self.states.values():
            if state.serial == serial:
                return state
        raise KeyError(serial)

    # -- lifecycle -------------------------------------------------------------------

    async def start_sinks(self) -> None:
        """Start every sink; if one cannot start, stop those already started and raise."""
        started: list[Sink] = []
        try:
            for sink in self.sinks:
                await sink.start(self)
                started.append(sink)
        except BaseException:
            for sink in reversed(started):
                with contextlib.suppress(Exception):
                    await sink.stop()
            raise
        self._sinks_started = True

    async def stop_sinks(self) -> None:
        if not self._sinks_started:
            return
        self._sinks_started = False
        for sink in self.sinks:
            try:
                await sink.stop()
            except Exception:
                _LOGGER.exception("sink %s failed to stop cleanly", sink.name)

    async def run(self) -> None:
        """Read every gateway until `stop()`; then close clients and flush the sinks."""
        await self.start_sinks()
        self.started.set()
        try:
            await self.read_until_stopped()
        finally:
            await self.stop_sinks()

    async def read_until_stopped(self) -> None:
        """The reading loops of every gateway (sinks already started), until `stop()`."""
        try:
            for target in self.targets:
                self._tasks.append(asyncio.create_task(self._run_one(target), name=target.name))
            await self._stopping.wait()
        finally:
            for task in self._tasks:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            self._tasks.clear()
            await self.close_envoys()

    def stop(self) -> None:
        self._stopping.set()

    @property
    def session(self) -> aiohttp.ClientSession:
        """The HTTP session every gateway shares (made on first use, in the running loop)."""
        if self._session is None or self._session.closed:
            from ..net.connector import gateway_session

            self._session = gateway_session()
        return self._session

    async def close_envoys(self) -> None:
        """Close every client, then the shared session (the next poll makes a new one)."""
        for state in self.states.values():
            if state.envoy is not None:
                with contextlib.suppress(Exception):
                    await state.envoy.close()
                state.envoy = None
        session, self._session = self._session, None
        if session is not None:
            await session.close()
        for close in self._closers:
            with contextlib.suppress(Exception):  # a cache: losing it costs a probe, no more
                close()

    # -- one gateway -------------------------------------------------------------------

    async def _run_one(self, target: Target) -> None:
        state = self.states[target.name]
        mode = target.mode
        live_task: asyncio.Task[None] | None = None
        state.follows_live = mode == "on"  # its snapshots give no frames of their own
        if mode != "off":  # run() follows Envoy.live() (see Target.live); poll_once() does not
            wanted = (lambda: True) if mode == "on" else lambda: self.demand.wants(state)
            live_task = asyncio.create_task(supervise(state, wanted, self.deliver_frame))
        # spread the gateways over the interval rather than reading them all at once
        index = self.targets.index(target)
        if index:
            await self._sleep(self.interval_s * index / len(self.targets))
        try:
            while not self._stopping.is_set():
                ok = await self.poll_one(target)
                await self._sleep(self.interval_s if ok else self.retry_after_s)
        finally:
            if live_task is not None:
                live_task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await live_task

    async def poll_once(self) -> None:
        """One update of every gateway, concurrently (tests, benchmarks)."""
        await asyncio.gather(*(self.poll_one(t) for t in self.targets))

    async def poll_one(self, target: Target) -> bool:
        """Connect if needed and update one gateway; True when it gave a snapshot."""
        state = self.states[target.name]
        try:
            if state.envoy is None:
                async with self._connecting:
                    await self._connect(target, state)
            assert state.envoy is not None
            async with self._updating:
                snapshot = await state.envoy.update()
                await self._ask_if_unheard(state, state.envoy)
        except EnvoyAuthError as err:
            await self._failed(state, err, drop_client=True)
            return False
        except EnvoyError as err:
            await self._failed(state, err, drop_client=state.snapshot is None)
            return False
        except Exception as err:  # a bug or a bad setting must not end this gateway's loop
            _LOGGER.exception("%s: unexpected failure", state.name)
            state.last_error = f"{type(err).__name__}: {err}"
            await self._event(state.serial or state.name, "error", state.last_error)
            return False
        await self._succeeded(state, snapshot)
        return True

    async def _ask_if_unheard(self, state: GatewayState, envoy: Envoy) -> None:
        """One `/info` exchange when the updates have asked nothing for `ask_after_s`.

        Its outcome counts in ``envoy.stats`` like any other, which is the point:
        a dead gateway is unreachable in time even when no source is due.
        """
        now = self.clock()
        state.silence.observe(envoy, envoy.stats, now)
        if state.silence.unheard_for(now) < self.ask_after_s:
            return
        try:
            await envoy.request("GET", "/info", retry=False)
        except EnvoyError as err:  # counted as a failed exchange: `_succeeded` judges it
            _LOGGER.debug("%s: /info asked while unheard: %s", state.name, reason(err))

    async def _connect(self, target: Target, state: GatewayState) -> None:
        envoy = target.make(self.session)
        state.host = envoy.host
        try:
            await envoy.connect()
        except BaseException:
            await envoy.close()
            raise
        state.envoy = envoy
        state.serial = envoy.info.serial
        if state.state == "connecting":  # a reconnect says nothing until an update tells
            await self._enter(state, "connected", f"connected to {envoy.host}")

    async def _succeeded(self, state: GatewayState, snapshot: Snapshot) -> None:
        now = self.clock()
        if state.envoy is not None:
            state.silence.observe(state.envoy, state.envoy.stats, now)
        # the gateway may answer /info yet fail production: age is that of the power data
        data_time = snapshot.freshness.get("production", snapshot.taken_at)
        state.last_ok = data_time
        state.snapshot = snapshot
        state.good_updates += 1
        state.wake.set()
        serial = snapshot.gateway.serial
        silent = state.silence.silent_for(now)
        if silent >= self.unreachable_after_s:
            error = snapshot.errors.get("production") or "no answer"
            state.last_error = error
            await self._enter(state, "unreachable", f"no answer for {silent:.0f} s ({error})")
        elif now - data_time > self.stale_after_s:
            state.last_error = snapshot.errors.get("production", "production data is old")
            await self._enter(state, "stale", state.last_error)
        else:
            state.last_error = None
            await self._enter(state, "connected", "answering")
        if state.state != "unreachable":  # what we already had is no new snapshot
            await self._emit("on_snapshot", serial, snapshot)
        warnings = frozenset(f"{k}: {v}" for k, v in snapshot.errors.items())
        for text in sorted(warnings - state.warnings):
            await self._event(serial, "warning", text)
        state.warnings = warnings
        live = state.follows_live and hasattr(state.envoy, "live") and not state.live_failed
        if not live and state.state == "connected":  # old power is not a new sample
            await self.deliver_frame(serial, frame_from_snapshot(snapshot))

    async def _failed(self, state: GatewayState, err: EnvoyError, *, drop_client: bool) -> None:
        now = self.clock()
        state.last_error = reason(err)
        if state.envoy is not None:
            state.silence.observe(state.envoy, state.envoy.stats, now)
        state.silence.failed(now)
        if drop_client and state.envoy is not None:
            with contextlib.suppress(Exception):
                await state.envoy.close()
            state.envoy = None
            state.wake.set()
        if isinstance(err, EnvoyCertificateChangedError):
            await self._enter(state, "certificate_changed", state.last_error)
            return
        if isinstance(err, EnvoyAuthError):
            await self._enter(state, "auth_failed", state.last_error)
            return
        silent = state.silence.silent_for(now)
        if state.last_ok is None or silent >= self.unreachable_after_s:
            await self._enter(state, "unreachable", state.last_error)
        elif now - state.last_ok >= self.stale_after_s:
            await self._enter(state, "stale", state.last_error)
        else:  # one failed update of a fragile gateway is no news
            _LOGGER.debug("%s: update failed (%s); data still fresh", state.name, err)

    async def deliver_frame(self, serial: str, frame: LiveFrame) -> None:
        try:
            self.by_serial(serial).frame = frame
        except KeyError:
            pass
        await self._emit("on_live", serial, frame)

    # -- events ---------------------------------------------------------------------

    async def _enter(self, state: GatewayState, new: str, message: str) -> None:
        """Move one gateway to `new`: a bad state is logged when it starts and when it ends."""
        old = state.state
        if new == old:
            return
        now = self.clock()
        name = state.serial or state.name
        if old in BAD_STATES:
            lasted = ended(old, now - (state.since or now))
            _LOGGER.info("%s %s (now %s)", name, lasted, new)
            if new == "connected":
                await self._event(name, "recovered", lasted)
        state.state, state.since = new, now
        if new in BAD_STATES:
            _LOGGER.warning("%s %s: %s; %s", name, new, message, advice(new, state.host))
            await self._event(name, new, message)
        elif old == "connecting":
            _LOGGER.info("%s connected: %s", name, message)
            await self._event(name, "connected", message)

    async def _event(self, serial: str, kind: str, message: str) -> None:
        await self.record(Event(at=self.clock(), serial=serial, kind=kind, message=message))

    async def record(self, event: Event) -> None:
        """Every sink gets the event (state changes here; write outcomes from the MQTT sink)."""
        for sink in self.sinks:
            try:
                await sink.on_event(event)
            except Exception:
                _LOGGER.exception("sink %s failed on an event", sink.name)

    async def _emit(self, method: str, serial: str, item: Any) -> None:
        for sink in self.sinks:
            try:
                await getattr(sink, method)(serial, item)
            except Exception:
                _LOGGER.exception("sink %s failed on %s", sink.name, method)
