"""/info (XML identity) and /home (network, communication levels)."""

from __future__ import annotations

import copy
import xml.etree.ElementTree as ET
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from enphase_local.errors import EnvoyParseError
from enphase_local.firmware import Firmware
from enphase_local.models.gateway import GatewayInfo, InterfaceType
from enphase_local.sources.home import HOME, parse_home
from enphase_local.sources.info import INFO, parse_info
from enphase_local.sources.registry import Cadence, Role, Speed
from tests.fuzz import JSON_VALUE, mutated_json, parses_or_refuses
from tests.hypothesis_profile import examples
from tests.support import needs_real, needs_seed, real_body, real_cases, seed_example

# --- /info: seed ----------------------------------------------------------------


@needs_seed
def test_seed_info_values_read_by_hand() -> None:
    info = parse_info(seed_example("/info"))
    assert info.serial == "123456789012"
    assert info.part_number == "800-00649-r01"
    assert info.firmware == "D8.3.5167"
    assert info.fw == Firmware.parse("D8.3.5167") and info.fw.letter == "D"
    assert info.fw.parts == (8, 3, 5167)
    assert info.imeter is True and info.web_tokens is True
    assert info.device_time == 1753703630
    assert len(info.packages) == 15
    app = info.packages["app"]
    assert (app.part_number, app.version, app.build) == ("500-00002-r01", "08.03.5167", "5c3a00")
    assert info.packages["rootfs-full"].build == "1211"
    assert info.packages["ffuimg"].version == "01.00.04"
    assert info.build_id == "-FRA-799-merge-master-enable-prod:pkg-Jun-03-25-03:50:24"
    assert info.build_time_gmt == 1748922970
    assert info.release_stage == "700-GA"
    assert info.release_ver == "02.00.284"


@needs_seed
def test_info_to_dict_is_plain_json() -> None:
    plain = parse_info(seed_example("/info")).to_dict()
    assert plain["packages"]["app"] == {
        "part_number": "500-00002-r01",
        "version": "08.03.5167",
        "build": "5c3a00",
    }
    assert plain["firmware"] == "D8.3.5167" and "fw" not in plain
    assert orjson.loads(orjson.dumps(plain)) == plain


OLD_INFO = b"""<?xml version='1.0' encoding='UTF-8'?>
<envoy_info>
  <time>1691342592</time>
  <device>
    <sn>121430030548</sn>
    <pn>800-00069-r05</pn>
    <software>D3.7.0</software>
  </device>
  <package name='app'>
    <build>0e8c7a</build>
    <version>03.17.03</version>
    <pn>500-00002-r01</pn>
  </package>
</envoy_info>"""


def test_old_firmware_defaults() -> None:
    info = parse_info(OLD_INFO)
    assert info.imeter is None and info.web_tokens is False  # absent: unknown, not false
    assert info.build_id is None and info.build_time_gmt is None
    assert info.release_stage is None and info.release_ver is None
    assert info.packages["app"].version == "03.17.03"  # children in another order
    assert info.fw.before(7)


def test_info_without_time_or_packages() -> None:
    body = b"<envoy_info><device><sn>1</sn><software>D7.6.175</software></device></envoy_info>"
    info = parse_info(body)
    assert info == GatewayInfo(serial="1", part_number=None, firmware="D7.6.175")
    assert info.device_time is None and dict(info.packages) == {}


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"", "empty"),
        (b"<html><body>Not Found</body></html>", "envoy_info"),
        (b"<envoy_info><device><sn>1</sn></device></envoy_info>", "software"),
        (b"<envoy_info><device><software>D8</software></device></envoy_info>", "sn"),
        (b"<envoy_info></envoy_info>", "device"),
        (b"<envoy_info><device><sn>1</sn><software>D8", "not valid XML"),
        (
            b"<envoy_info><device><sn>1</sn><software>D8</software><imeter>maybe</imeter>"
            b"</device></envoy_info>",
            "imeter",
        ),
        (
            b"<envoy_info><time>soon</time><device><sn>1</sn><software>D8</software></device>"
            b"</envoy_info>",
            "time",
        ),
        (
            b"<envoy_info><device><sn>1</sn><software>D8</software></device>"
            b"<package><pn>x</pn></package></envoy_info>",
            "name",
        ),
        (b'<?xml version="1.0" encoding="bogus"?><envoy_info/>', "not valid XML"),
        (b'{"serial": 1}', "not valid XML"),
    ],
)
def test_info_refuses_bad_documents(body: bytes, fragment: str) -> None:
    with pytest.raises(EnvoyParseError) as info:
        parse_info(body)
    assert info.value.path == "/info"
    assert fragment in str(info.value)


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<envoy_info><device><sn>&lol3;</sn><software>D8.3.5167</software></device></envoy_info>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE envoy_info [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<envoy_info><device><sn>&x;</sn><software>D8.3.5167</software></device></envoy_info>"""

EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE envoy_info SYSTEM "http://127.0.0.1:1/evil.dtd">
<envoy_info><device><sn>1</sn><software>D8.3.5167</software></device></envoy_info>"""


@pytest.mark.parametrize("body", [BILLION_LAUGHS, EXTERNAL_ENTITY, EXTERNAL_DTD])
def test_info_refuses_entity_attacks(body: bytes) -> None:
    with pytest.raises(EnvoyParseError) as info:
        parse_info(body)
    assert "unsafe XML" in str(info.value)


_DEEP = b"<envoy_info>" + b"<a>" * 200_000 + b"</a>" * 200_000 + b"</envoy_info>"
_WIDE = b"<envoy_info>" + b"<a/>" * 100_000 + b"</envoy_info>"


@pytest.mark.parametrize(
    ("body", "fragment"),
    [(_DEEP, "nested deeper than 32"), (_WIDE, "more than 5000 XML elements")],
    ids=["200k-deep", "100k-wide"],
)
def test_info_refuses_huge_trees_before_building_them(body: bytes, fragment: str) -> None:
    """A tree of 200,000 nested elements cost 56 MB before it could be refused (issue 30)."""
    import tracemalloc

    tracemalloc.start()
    try:
        with pytest.raises(EnvoyParseError, match=fragment):
            parse_info(body)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 10_000_000, f"peak {peak / 1e6:.1f} MB"


def test_info_at_the_depth_and_element_limits_still_parses() -> None:
    """The limits refuse only what no gateway sends: a document at both limits is read."""
    from enphase_local.sources.info import MAX_DEPTH, MAX_ELEMENTS

    nested = b"<x>" * (MAX_DEPTH - 2) + b"</x>" * (MAX_DEPTH - 2)
    filler = b"<y/>" * (MAX_ELEMENTS - (MAX_DEPTH - 2) - 4)
    body = (
        b"<envoy_info><device><sn>123456789012</sn><software>D8.2.4345</software></device>"
        + nested
        + filler
        + b"</envoy_info>"
    )
    assert parse_info(body).serial == "123456789012"


def test_info_source() -> None:
    assert (INFO.key, INFO.path, INFO.parse) == ("info", "/info", parse_info)
    assert (INFO.role, INFO.cadence, INFO.speed) == (Role.PUBLIC, Cadence.IDENTITY, Speed.FAST)


# --- /info: real captures ---------------------------------------------------------

NOT_METERED = {"4.2.27", "5.0.62", "7.6.114_without_cts", "7.6.175_standard"}
NO_IMETER = {"3.7.0", "3.9.36", "3.17.3"}  # /info has no <imeter>: unknown, not false


@needs_real
@pytest.mark.parametrize("folder", real_cases("info"))
def test_real_info(folder: str) -> None:
    body = real_body(folder, "info")
    assert body is not None
    info = parse_info(body)
    version = folder.split("_", maxsplit=1)[0]
    assert info.fw.version == version
    assert info.fw.letter == ("R" if version in ("3.9.36", "4.10.35") else "D")
    assert info.firmware == info.fw.letter + version
    assert info.serial and info.part_number and info.part_number.startswith("800-")
    if folder in NO_IMETER:
        assert info.imeter is None
    else:
        assert info.imeter is (folder not in NOT_METERED)
    assert info.web_tokens is info.fw.at_least(7)
    assert info.device_time is not None and info.device_time > 1_600_000_000
    assert len(info.packages) >= 7 and "app" in info.packages
    assert all(p.version and p.part_number and p.build for p in info.packages.values())
    if info.fw.at_least(4):
        assert info.build_time_gmt is not None and info.build_time_gmt > 1_500_000_000
        assert info.build_id
    else:
        assert info.build_time_gmt is None and info.build_id is None
    assert info.release_stage in (None, "700-GA")


@needs_real
def test_real_info_covers_every_folder() -> None:
    assert len(real_cases("info")) == 24


# --- /info: properties ------------------------------------------------------------


@given(st.binary(max_size=300))
@settings(max_examples=examples(300), deadline=None)
def test_info_random_bytes_raise_only_parse_error(body: bytes) -> None:
    parses_or_refuses(parse_info, body)


TAGS = ["envoy_info", "device", "sn", "software", "pn", "imeter", "web-tokens", "time"]
TAGS += ["package", "version", "build", "build_info", "build_time_gmt", "release_ver", "x"]


def _element_text(draw: Any, depth: int) -> str:
    tag = draw(st.sampled_from(TAGS))
    attrs = draw(st.sampled_from(["", " name='app'", " name=''", " a='&amp;'", " name="]))
    if depth <= 0 or draw(st.booleans()):
        inner = draw(
            st.sampled_from(["", "true", "false", "D8.3.5167", "123", "-1", "&lt;", "&x;"])
        )
        inner += draw(st.text(alphabet="<>/&;'\" ab1-", max_size=6))
    else:
        inner = "".join(_element_text(draw, depth - 1) for _ in range(draw(st.integers(0, 3))))
    close = draw(st.sampled_from([f"</{tag}>", f"</{tag}>", "", "</x>"]))
    return f"<{tag}{attrs}>{inner}{close}"


@st.composite
def xmlish(draw: Any) -> bytes:
    head: str = draw(st.sampled_from(["", "<?xml version='1.0' encoding='UTF-8'?>", "<?xml?>"]))
    return (head + _element_text(draw, 3)).encode()


@given(xmlish())
@settings(max_examples=examples(400), deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_info_random_xmlish_text_raises_only_parse_error(body: bytes) -> None:
    info = parses_or_refuses(parse_info, body)
    if info is None:
        return
    assert isinstance(info.serial, str) and isinstance(info.firmware, str)


@st.composite
def mutated_info(draw: Any) -> bytes:
    """The seed /info with elements dropped, emptied, duplicated or given random text."""
    root = ET.fromstring(seed_example("/info"))
    elements = list(root.iter())
    for _ in range(draw(st.integers(1, 4))):
        target = draw(st.sampled_from(elements))
        action = draw(st.sampled_from(["text", "drop_child", "attr", "dup"]))
        if action == "text":
            target.text = draw(st.text(max_size=12))
        elif action == "drop_child" and len(target):
            del target[draw(st.integers(0, len(target) - 1))]
        elif action == "attr":
            target.attrib = {"name": draw(st.text(max_size=5))}
        elif action == "dup" and len(target):
            target.append(copy.deepcopy(target[0]))
    return ET.tostring(root)


@needs_seed
@given(mutated_info(), st.data())
@settings(max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_info_mutations_raise_only_parse_error(body: bytes, data: st.DataObject) -> None:
    cut = data.draw(st.integers(0, len(body)))
    for candidate in (body, body[:cut], body[:cut] + body[cut + 7 :]):
        parses_or_refuses(parse_info, candidate)


# --- /home ------------------------------------------------------------------------


@needs_seed
def test_seed_home_values_read_by_hand() -> None:
    home = parse_home(seed_example("/home"))
    assert home.software_build_epoch == 1749981828
    assert home.timezone == "US/Eastern"
    assert (home.current_date, home.current_time) == ("07/19/2025", "21:25")
    assert home.tariff == "time_of_use"
    assert home.web_comm is True and home.ever_reported_to_enlighten is True
    assert home.last_enlighten_report_time == 1752974593
    assert home.primary_interface == "wlan0"
    assert [i.name for i in home.interfaces] == ["ppp0", "eth0", "wlan0"]
    ppp, eth, wlan = home.interfaces
    assert ppp.type is InterfaceType.CELLULAR and ppp.mac is None and ppp.ip == "1.2.3.4"
    assert (ppp.signal_strength, ppp.signal_strength_max, ppp.carrier) == (24, 31, True)
    assert eth.type is InterfaceType.ETHERNET and eth.mac == "01:02:03:04:05:06"
    assert eth.ip == "192.168.1.100" and eth.carrier is False and eth.dhcp is True
    assert wlan.type is InterfaceType.WIFI and wlan.status == "connected"
    assert (wlan.signal_strength, wlan.signal_strength_max) == (4, 5)
    assert home.primary is wlan
    comm = home.comm
    assert comm is not None and (comm.num, comm.level) == (1, 0)
    assert comm.esub is not None and (comm.esub.num, comm.esub.level) == (1, 5)
    assert comm.pcu is not None and (comm.pcu.num, comm.pcu.level) == (0, 0)
    assert len(comm.encharge) == 1 and comm.encharge[0].num == 2
    assert (comm.encharge[0].level_24g, comm.encharge[0].level_subg) == (0, 0)
    assert len(home.wireless_connection) == 1
    ble = home.wireless_connection[0]
    assert ble.type == "BLE" and ble.connected is True


@needs_seed
def test_home_to_dict_is_plain_json() -> None:
    plain = parse_home(seed_example("/home")).to_dict()
    assert plain["interfaces"][2]["type"] == "wifi"
    assert plain["comm"]["esub"] == {"num": 1, "level": 5}
    assert orjson.loads(orjson.dumps(plain)) == plain


def test_home_minimal_and_unknown_interface_type() -> None:
    body = b'{"network": {"interfaces": [{"interface": "usb0", "type": "lte-m", "ip": null}]}}'
    home = parse_home(body)
    assert home.interfaces[0].type is InterfaceType.UNKNOWN and home.interfaces[0].ip is None
    assert home.comm is None and home.wireless_connection == () and home.timezone is None
    assert home.primary is None


@pytest.mark.parametrize(
    "body",
    [
        b"{}",
        b"[]",
        b'{"network": []}',
        b'{"network": {"interfaces": [{"type": "wifi"}]}}',
        b'{"network": {"interfaces": [{"interface": "eth0", "dhcp": "maybe"}]}}',
        b'{"network": {}, "comm": {"num": 1}}',
        b'{"network": {}, "comm": {"num": 1, "level": 2, "esub": {"num": "1", "level": 5}}}',
        b'{"network": {}, "timezone": 5}',
        b'{"network": {"last_enlighten_report_time": "yesterday"}}',
        b'{"error": "404 - Not Found"}',
        b"<html>401</html>",
    ],
)
def test_home_refuses_bad_documents(body: bytes) -> None:
    with pytest.raises(EnvoyParseError) as info:
        parse_home(body)
    assert info.value.path == "/home"


def test_home_source() -> None:
    assert (HOME.key, HOME.path, HOME.parse) == ("home", "/home", parse_home)
    assert (HOME.role, HOME.cadence, HOME.speed) == (Role.PUBLIC, Cadence.IDENTITY, Speed.SLOW)


@needs_real
@pytest.mark.parametrize("folder", real_cases("home"))
def test_real_home(folder: str) -> None:
    body = real_body(folder, "home")
    assert body is not None
    home = parse_home(body)
    assert home.timezone and "/" in home.timezone
    assert home.software_build_epoch and home.software_build_epoch > 1_600_000_000
    assert home.tariff in ("single_rate", "time_of_use")
    assert home.primary is not None and home.primary.carrier is True
    assert {i.name for i in home.interfaces} >= {"eth0", "wlan0"}
    assert all(i.type is not InterfaceType.UNKNOWN for i in home.interfaces)
    assert home.comm is not None and 0 <= home.comm.level <= 5
    assert home.comm.pcu is not None and home.comm.esub is not None
    assert home.wireless_connection


@needs_real
def test_real_home_known_values() -> None:
    home = parse_home(real_body("8.3.5169_with_generator", "home") or b"")
    assert home.primary_interface == "eth0" and home.timezone == "US/Central"
    assert home.comm is not None and home.comm.pcu is not None and home.comm.pcu.num == 20
    assert [w.type for w in home.wireless_connection] == ["zigbee", "subghz"]
    wlan = next(i for i in home.interfaces if i.name == "wlan0")
    assert wlan.ip is None and wlan.status == "connecting"


# --- /home: properties ------------------------------------------------------------


@given(st.binary(max_size=200) | JSON_VALUE.map(orjson.dumps))
@settings(max_examples=examples(300), deadline=None)
def test_home_random_bodies_raise_only_parse_error(body: bytes) -> None:
    parses_or_refuses(parse_home, body)


@needs_seed
@given(st.data())
@settings(max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_home_mutations_raise_only_parse_error(data: st.DataObject) -> None:
    body = data.draw(mutated_json(orjson.loads(seed_example("/home"))))
    parses_or_refuses(parse_home, body)
