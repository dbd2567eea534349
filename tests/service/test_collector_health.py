"""A gateway's certificate changing under a running collector: one line, with what to do."""

from __future__ import annotations

from pathlib import Path

import pytest

from enphase_local import Envoy, RetryPolicy, Timeouts, TokenStore
from enphase_local.service.collector import Collector, Target
from enphase_local.service.health import Silence, reason
from tests.hostile.servers import HostileGateway
from tests.hostile.test_trust import front_on
from tests.service.helpers import no_sleep, run_for
from tests.simkit import gateway

QUICK = {"timeouts": Timeouts(fast_s=2.0, slow_s=2.0), "retry": RetryPolicy(attempts=1)}


async def test_a_changed_certificate_is_logged_once_with_what_to_do(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="enphase_local.service")
    store = TokenStore(tmp_path / "tokens.json")
    async with gateway("metered-3phase") as (gw, clock):
        genuine = HostileGateway(gw.http_url)
        await genuine.start()
        host, port = genuine.host, genuine.port
        token = gw.owner_token()

        def make(session: object) -> Envoy:
            return Envoy(
                host,
                token=token,
                clock=clock,
                token_store=store,
                session=session,  # type: ignore[arg-type]
                sleep=no_sleep,
                **QUICK,  # type: ignore[arg-type]
            )

        collector = Collector([Target("house", make)], [], clock=clock)
        try:
            await run_for(collector, clock, 120, 60)
            state = collector.states["house"]
            assert state.state == "connected"
            await genuine.stop()
            async with front_on(port, gw.http_url) as impostor:
                await run_for(collector, clock, 600, 60)
                assert state.state == "certificate_changed", state
                assert impostor.credentials_seen() == []
        finally:
            await collector.close_envoys()
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1, warnings
    assert "certificate_changed" in warnings[0] and "enphase trust" in warnings[0]


def test_reasons_name_no_python_class() -> None:
    assert reason(OSError("ClientConnectorError: cannot connect to 10.0.0.5:443")) == (
        "cannot connect to 10.0.0.5:443"
    )
    assert reason(OSError("")) != ""


def test_silence_counts_only_failed_exchanges() -> None:
    class Stats:
        requests = 5
        failures = 0

    stats, source, silence = Stats(), object(), Silence()
    silence.observe(source, stats, 100.0)
    stats.requests, stats.failures = 8, 3  # three failed exchanges
    silence.observe(source, stats, 160.0)
    assert silence.silent_for(220.0) == 120.0  # since the last answer at 100
    silence.observe(source, stats, 280.0)  # nothing asked: no news either way
    assert silence.silent_for(280.0) == 180.0
    stats.requests = 9
    silence.observe(source, stats, 300.0)
    assert silence.silent_for(300.0) == 0.0
