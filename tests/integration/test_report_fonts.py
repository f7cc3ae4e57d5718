"""A Chinese PDF report on a machine without a CJK font (issue 15): the command says so in
one line naming the package to install, and still writes the report; with the font, it says
nothing. fontconfig is pointed at a configuration of Latin fonts only to take the CJK ones
away."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from reclaim.bootstrap import Runtime
from reclaim.entrypoints.cli import main
from report_history import NOW, build_history


def _pdf(rt: Runtime, store: str, tmp: Path, locale: str, **env: str) -> tuple[str, bytes]:
    out = tmp / f"report-{locale}-{len(env)}.pdf"
    args = ["report", "--store", store, "--period", "2026-11", "--format", "pdf",
            "--locale", locale, "--now", NOW.isoformat(), "--out", str(out)]  # fmt: skip
    done = CliRunner().invoke(
        main, args, env={"RECLAIM_DATABASE_URL": rt.settings.database_url, **env}
    )
    assert done.exit_code == 0, done.output
    return done.output, out.read_bytes()


def test_a_chinese_pdf_without_a_cjk_font_warns_and_still_renders(
    sqlite_rt: Runtime, tmp_path: Path
) -> None:
    store = build_history(sqlite_rt)
    latin = Path("/usr/share/fonts/truetype")  # Debian's DejaVu and Liberation: no CJK
    if not latin.is_dir():
        pytest.skip("needs Latin fonts under /usr/share/fonts/truetype")
    empty = tmp_path / "fonts.conf"  # those fonts only: the CJK ones are taken away
    empty.write_text(
        f"<?xml version='1.0'?><fontconfig><dir>{latin}</dir>"
        f"<cachedir>{tmp_path / 'cache'}</cachedir></fontconfig>"
    )
    said, pdf = _pdf(sqlite_rt, store, tmp_path, "zh-CN", FONTCONFIG_FILE=str(empty))
    [line] = [x for x in said.splitlines() if x.startswith("warning:")]
    assert "Chinese" in line and "apt-get install fonts-noto-cjk" in line
    assert pdf.startswith(b"%PDF")
    # English needs no such font; with the machine's own fonts Chinese needs no warning
    said, _ = _pdf(sqlite_rt, store, tmp_path, "en", FONTCONFIG_FILE=str(empty))
    assert "warning:" not in said
    said, pdf = _pdf(sqlite_rt, store, tmp_path, "zh-CN")
    assert "warning:" not in said and pdf.startswith(b"%PDF")
