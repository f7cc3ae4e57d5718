"""The console's words (SPEC S11: English and Simplified Chinese): every key has both texts,
with the same placeholders, and every key a template or a page names literally exists."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from reclaim.entrypoints.console.words import Words, catalogue

CONSOLE = Path(__file__).resolve().parents[3] / "src" / "reclaim" / "entrypoints" / "console"
# t("key") / t('key') in templates, and words keys passed as strings in pages ("login.wrong").
USED = re.compile(r"""\bt\(\s*["']([a-z0-9_.\-]+)["']""")


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_key_has_both_languages_with_the_same_placeholders() -> None:
    words = catalogue()
    assert len(words) > 50
    for key, texts in words.items():
        assert set(texts) == {"en", "zh-CN"}, key
        assert texts["en"].strip() and texts["zh-CN"].strip(), key
        assert _fields(texts["en"]) == _fields(texts["zh-CN"]), key
        assert re.search(r"[\u4e00-\u9fff]", texts["zh-CN"]) or texts["zh-CN"] == texts["en"], (
            f"{key}: the zh-CN text has no Chinese"
        )


def test_every_literal_key_in_templates_and_pages_is_defined() -> None:
    words = catalogue()
    missing = []
    files = [*CONSOLE.rglob("*.html"), *CONSOLE.rglob("*.py")]
    for path in files:
        if path.name == "words.py":  # its docstring's examples
            continue
        for key in USED.findall(path.read_text(encoding="utf-8")):
            if key not in words and not key.endswith((".", "_")):  # "role." ~ role: a prefix
                missing.append(f"{path.relative_to(CONSOLE)}: {key}")
    assert not missing, missing


@pytest.mark.parametrize(("locale", "text"), [("en", "Sign in"), ("zh-CN", "登录")])
def test_a_word_in_each_language(locale: str, text: str) -> None:
    assert Words(locale).t("login.submit") == text
    assert Words(locale)("app.footer", tz="Asia/Shanghai").count("Asia/Shanghai") == 1


def test_an_unknown_locale_falls_back_to_english() -> None:
    assert Words("fr").t("login.submit") == "Sign in"


def test_one_takes_the_singular_where_english_has_one() -> None:
    en, zh = Words("en"), Words("zh-CN")
    assert en.t("queue.count", n=1) == "1 open case"
    assert en.t("queue.count", n="1") == "1 open case"  # a number already formatted
    assert en.t("queue.count", n=2) == "2 open cases"
    assert en.t("queue.count", n="1,001") == "1,001 open cases"
    assert zh.t("queue.count", n=1) == "共 1 个未结案例"
    assert en.t("flows.version", n=1) == "Version 1"  # no singular form: the key itself
