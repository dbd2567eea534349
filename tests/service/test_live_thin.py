"""Live frames thinned before the history: one mean row per step, minutes' means exact."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from enphase_local.models.live_frame import LiveFrame, LivePhase
from enphase_local.service.config import ConfigError, forced_live, live_mode, load_config
from enphase_local.service.history_sink import HistorySink
from enphase_local.service.live_thin import LiveThinner

T0 = 1_781_395_200.0  # a whole minute


def frame(at: float, solar: float | None, *, soc: float = 50.0) -> LiveFrame:
    return LiveFrame(
        taken_at=at,
        source="livedata",
        solar_watts=solar,
        house_watts=500.0,
        grid_watts=None if solar is None else 500.0 - solar,
        soc_percent=soc,
        phases={"L1": LivePhase(solar_watts=None if solar is None else solar / 2)},
    )


def test_a_bucket_is_kept_as_its_mean_once_a_later_frame_comes() -> None:
    thin = LiveThinner(10)
    out = [thin.add("S", frame(T0 + i, float(i), soc=40.0 + i)) for i in range(10)]
    assert out == [[]] * 10  # the bucket is still open
    (kept,) = thin.add("S", frame(T0 + 10, 0.0))
    assert kept.solar_watts == pytest.approx(4.5)  # mean of 0..9: the energy of those 10 s
    assert kept.grid_watts == pytest.approx(495.5)
    assert kept.phases["L1"].solar_watts == pytest.approx(2.25)
    assert kept.taken_at == pytest.approx(T0 + 4.5)
    assert kept.soc_percent == 49.0  # a level: the last one
    assert thin.add("T", frame(T0 + 10, 1.0)) == []  # each gateway its own buckets
    (serial, last), *others = sorted(thin.drain(), key=lambda x: x[0])
    assert serial == "S" and last.solar_watts == 0.0 and last.taken_at == T0 + 10
    assert [s for s, _ in others] == ["T"]


def test_missing_values_are_not_counted_as_zero() -> None:
    thin = LiveThinner(5)
    for i, solar in enumerate([100.0, None, 300.0, None, 200.0]):
        thin.add("S", frame(T0 + i, solar))
    (kept,) = thin.add("S", frame(T0 + 5, 1.0))
    assert kept.solar_watts == pytest.approx(200.0)
    assert kept.house_watts == 500.0


def test_step_zero_keeps_every_frame_and_odd_steps_are_refused() -> None:
    thin = LiveThinner(0)
    one = frame(T0, 1.0)
    assert thin.add("S", one) == [one]
    with pytest.raises(ValueError, match="step must be one of"):
        LiveThinner(7)


async def test_one_hour_at_1_hz_is_360_rows_with_exact_minute_means(tmp_path: Path) -> None:
    now = [T0]
    sink = HistorySink(tmp_path / "h.db", clock=lambda: now[0], flush_every_s=3600, live_step_s=10)
    await sink.start(None)  # type: ignore[arg-type]
    for i in range(3600):
        second = i % 60
        await sink.on_live("S1", frame(T0 + i, float(second)))  # each minute: 0..59
        now[0] = T0 + i
    await sink.flush()
    sink.store.db.execute("INSERT INTO gateways VALUES ('S1', 'h', 'fw', ?, ?)", (T0, now[0]))
    await sink.maintain(force=True)
    await sink.stop()  # the last open bucket is written too
    db = sqlite3.connect(sink.path)
    site, phase = (
        db.execute("SELECT COUNT(*) FROM power_samples WHERE phase = ?", (p,)).fetchone()[0]
        for p in ("", "L1")
    )
    assert (site, phase) == (360, 360)  # against 3,600 each unthinned
    minutes = db.execute(
        "SELECT samples, solar_min, solar_mean, solar_max FROM power_minutes "
        "WHERE phase = '' ORDER BY minute"
    ).fetchall()
    assert len(minutes) == 59  # the last minute is still open
    # mean exact (29.5 as at 1 Hz); min and max are those of the 10 s means
    assert all(m == (6, 4.5, pytest.approx(29.5), 54.5) for m in minutes)


def _config(tmp_path: Path, collect: str, gateway: str = "") -> Path:
    path = tmp_path / "c.toml"
    path.write_text(f'[collect]\n{collect}\n[[gateway]]\nhost = "h"\n{gateway}\n')
    return path


def test_the_config_says_live_per_gateway_and_the_history_step(tmp_path: Path) -> None:
    config = load_config(_config(tmp_path, "live = false\nlive_history_step = 30", "live = true"))
    assert config.live == "off" and config.gateways[0].live == "on"
    assert config.live_history_step_s == 30
    default = load_config(_config(tmp_path, ""))
    assert default.live == "auto" and default.gateways[0].live is None
    assert default.live_history_step_s == 10
    forced = forced_live(config, False)  # --no-live: the file's `live = true` gives way
    assert [live_mode(forced, g) for g in forced.gateways] == ["off"]
    assert live_mode(config, config.gateways[0]) == "on"
    assert live_mode(default, default.gateways[0]) == "auto"
    with pytest.raises(ConfigError, match="live must be"):
        load_config(_config(tmp_path, 'live = "sometimes"'))
    with pytest.raises(ConfigError, match="must divide a minute"):
        load_config(_config(tmp_path, "live_history_step = 7"))


async def test_a_site_shown_on_the_dashboard_watches_the_gateways_summed_into_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from enphase_local.service.runner import build
    from enphase_local.service.site_sum import site_serial

    monkeypatch.setenv("HOME", str(tmp_path))  # the token stores and probe caches: ours
    path = tmp_path / "c.toml"
    path.write_text(
        "".join(f'[[gateway]]\nname = "{n}"\nhost = "10.0.0.{i}"\n' for i, n in enumerate("abc"))
        + '[[site]]\nname = "farm"\ngateways = ["a", "b"]\n'
    )
    built = build(load_config(path), web=False, history=False)
    demand, states = built.collector.demand, built.collector.states
    assert not any(demand.wants(states[n]) for n in "abc")
    with demand.watch(site_serial("farm")):
        assert [demand.wants(states[n]) for n in "abc"] == [True, True, False]
    assert not any(demand.wants(states[n]) for n in "abc")
    await built.collector.close_envoys()
