"""Whether the machine can draw a report's script in a PDF (issue 15). WeasyPrint finds its
fonts through fontconfig; with no font covering Chinese (or Japanese, Korean), Pango draws
each character as a box and the PDF still renders. Asked of fontconfig's ``fc-list``; where
that command is missing, nothing can be told and nothing is said."""

from __future__ import annotations

import shutil
import subprocess

# A report locale's language → how people call its script, for the warning.
NEEDS_FONT = {"zh": "Chinese", "ja": "Japanese", "ko": "Korean"}
PACKAGE = "fonts-noto-cjk"  # Debian's (and Ubuntu's) Noto CJK: Chinese, Japanese, Korean


def has_font_for(lang: str) -> bool | None:
    """Whether fontconfig knows a font covering ``lang`` (``zh``, ``ja`` …); ``None``: no
    ``fc-list`` to ask."""
    found = shutil.which("fc-list")
    if found is None:
        return None
    try:
        done = subprocess.run(  # noqa: S603 - fc-list found on PATH; lang is zh, ja or ko
            [found, f":lang={lang}", "family"],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.returncode == 0 and bool(done.stdout.strip())


def missing_font_warning(locale: str) -> str | None:
    """One line for the operator when a PDF in ``locale`` would print its text as boxes."""
    lang = locale.split("-", maxsplit=1)[0].lower()
    script = NEEDS_FONT.get(lang)
    if script is None or has_font_for(lang) is not False:
        return None
    return (
        f"warning: no {script} font is installed, so the PDF's {script} text prints as "
        f"empty boxes; install one (Debian/Ubuntu: apt-get install {PACKAGE})"
    )
