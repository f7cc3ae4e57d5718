"""The device a case was opened on, from real browsers' user agents (issue 15: the report's
"by device" view)."""

from __future__ import annotations

import pytest

from reclaim.domain.devices import device_of

IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
)
IPAD = (
    "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1"
)


@pytest.mark.parametrize(
    ("agent", "device"),
    [
        (IPHONE, "mobile"),
        (
            "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/124.0.0.0 Mobile Safari/537.36",
            "mobile",
        ),
        (
            "Mozilla/5.0 (Linux; Android 14; Pixel 8 Build/AP1A.240405.002; wv) "
            "AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/123.0.6312.118 "
            "Mobile Safari/537.36 Instagram 327.0.0.44.95 Android",
            "mobile",
        ),
        ("Mozilla/5.0 (Android 13; Mobile; rv:125.0) Gecko/125.0 Firefox/125.0", "mobile"),
        (
            "Mozilla/5.0 (Mobile; Windows Phone 8.1; Android 4.0; ARM; Trident/7.0; Touch; "
            "rv:11.0; IEMobile/11.0; NOKIA; Lumia 635) like iPhone OS 7_0_3 Mac OS X "
            "AppleWebKit/537 (KHTML, like Gecko) Mobile Safari/537",
            "mobile",
        ),
        (
            "Opera/9.80 (J2ME/MIDP; Opera Mini/9.80 (S60; SymbOS; Opera Mobi/23.348; U; en) "
            "Presto/2.5.25 Version/10.54",
            "mobile",
        ),
        (IPAD, "tablet"),
        (
            "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/124.0.0.0 Safari/537.36",
            "tablet",
        ),
        ("Mozilla/5.0 (Android 13; Tablet; rv:125.0) Gecko/125.0 Firefox/125.0", "tablet"),
        (
            "Mozilla/5.0 (Linux; U; Android 4.0.3; en-us; KFTT Build/IML74K) "
            "AppleWebKit/535.19 (KHTML, like Gecko) Silk/3.4 Mobile Safari/535.19 "
            "Silk-Accelerated=true",
            "tablet",
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/124.0.0.0 Safari/537.36",
            "desktop",
        ),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/17.4 Safari/605.1.15",
            "desktop",  # also what an iPad asking for desktop pages sends
        ),
        ("Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0", "desktop"),
        (
            "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/124.0.0.0 Safari/537.36",
            "desktop",
        ),
        (
            "Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 6.1; Trident/4.0; SLCC2; "
            ".NET CLR 2.0.50727; Media Center PC 6.0; Tablet PC 2.0)",
            "desktop",  # Windows' "Tablet PC" component, on desktops too
        ),
    ],
)
def test_real_browsers_get_their_screen(agent: str, device: str) -> None:
    assert device_of(agent) == device


@pytest.mark.parametrize(
    "agent",
    [
        None,
        "",
        "   ",
        "curl/8.5.0",
        "MyShopApp/2.1 (build 77)",
        "Mozilla/5.0 (SMART-TV; Linux; Tizen 6.0) AppleWebKit/537.36 (KHTML, like Gecko) "
        "76.0.3809.146/6.0 TV Safari/537.36",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; Xbox; Xbox One) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/70.0.3538.102 Safari/537.36 Edge/18.19041",
        "Mozilla/5.0 (PlayStation; PlayStation 5/2.26) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/13.0 Safari/605.1.15",
    ],
)
def test_unknown_agents_televisions_and_consoles_have_no_device(agent: str | None) -> None:
    assert device_of(agent) is None


def test_the_ipad_is_a_tablet_although_its_agent_says_mobile() -> None:
    assert "Mobile/" in IPAD
    assert device_of(IPAD) == "tablet"
    assert device_of(IPAD.replace("iPad; CPU OS", "iPhone; CPU iPhone OS")) == "mobile"


def test_case_does_not_matter() -> None:
    assert device_of(IPHONE.upper()) == "mobile"
    assert device_of(IPAD.lower()) == "tablet"
