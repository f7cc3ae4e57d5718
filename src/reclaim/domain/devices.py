"""The kind of screen a customer shopped on, from the browser's user agent (SPEC S12: the
report's "by device" view).

Three kinds, read from the tokens browsers have sent for years (MDN, "Browser detection
using the user agent": look for ``Mobi`` anywhere for a phone):

* **tablet**: ``iPad``; ``Tablet`` (Firefox on Android tablets, but not the ``Tablet PC``
  that Windows desktops send); Kindle / Silk and the BlackBerry PlayBook; and **Android
  without** ``Mobile`` (Google's advice to Android browsers: phones say ``Mobile``, tablets
  don't). Checked first because an iPad's and a Kindle's agents also say ``Mobile``.
* **mobile**: ``Mobi`` (``Mobile``, ``IEMobile``), ``iPhone``, ``iPod``, ``Windows Phone``,
  BlackBerry, Opera Mini.
* **desktop**: a desktop system (``Windows NT``, ``Macintosh``, ``X11``, ``Linux``, ``CrOS``)
  and none of the above.

``None`` when the agent is missing or empty, names none of these systems (scripts, apps that
send their own name), or is a television or games console (not one of the three). Since
iPadOS 13, Safari on an iPad asks for desktop pages with a Mac's agent; such visits count as
desktop: nothing in the agent tells them apart. Crawlers are not this module's business:
:func:`reclaim.domain.filters.is_bot` keeps them from becoming cases at all.
"""

from __future__ import annotations

import re

MOBILE = "mobile"
TABLET = "tablet"
DESKTOP = "desktop"
DEVICES = (MOBILE, TABLET, DESKTOP)

_OTHER_SCREEN = re.compile(
    r"smart-?tv|googletv|appletv|hbbtv|netcast|viera|crkey|playstation|xbox|nintendo",
    re.IGNORECASE,
)
_TABLET = re.compile(r"ipad|tablet(?! pc)|kindle|silk/|playbook", re.IGNORECASE)
_MOBILE = re.compile(
    r"mobi|iphone|ipod|windows phone|blackberry|bb10|opera mini|webos|symbian", re.IGNORECASE
)
_ANDROID = re.compile(r"android", re.IGNORECASE)
_DESKTOP = re.compile(r"windows nt|macintosh|mac os x|x11|linux|cros\b", re.IGNORECASE)
# The rules in their order: the first whose pattern the agent matches names its device (None:
# not one of the three). The report's SQL reads the same patterns (adapters/db/fact_keys.py).
RULES: tuple[tuple[str | None, re.Pattern[str]], ...] = (
    (None, _OTHER_SCREEN),
    (TABLET, _TABLET),
    (MOBILE, _MOBILE),
    (TABLET, _ANDROID),
    (DESKTOP, _DESKTOP),
)


def device_of(user_agent: str | None) -> str | None:
    """``"mobile"``, ``"tablet"`` or ``"desktop"`` for a browser's user agent; ``None`` when
    the agent says nothing about the screen (see the module docstring for the rules)."""
    if not user_agent or not user_agent.strip():
        return None
    for device, pattern in RULES:
        if pattern.search(user_agent):
            return device
    return None
