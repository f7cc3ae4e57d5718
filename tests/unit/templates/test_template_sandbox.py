"""Merchants' templates cannot reach Python internals, nor eat memory or CPU.

Every payload goes the real way: ``compile_template`` as a merchant's save, then
``TemplateRenderer.render`` as a send. Each must raise :class:`InvalidInput` (at save or at send)
and nothing of Python's internals may appear in the message.
"""

from __future__ import annotations

import re

import pytest
from template_helpers import Overrides, full_context, render_sms

from reclaim.adapters.templates import TemplateRenderer, compile_template
from reclaim.adapters.templates.engines import engines
from reclaim.domain.messages import Channel
from reclaim.errors import InvalidInput

LEAKS = re.compile(
    r"<class|<function|<built-in|<module|<bound|object at 0x|__builtins__|subclasses\("
)

ESCAPES = [
    "{{ ''.__class__.__mro__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ ().__class__.__bases__[0].__subclasses__() }}",
    "{{ [].__class__.__base__.__subclasses__()[40]('/etc/passwd').read() }}",
    "{% for c in [].__class__.__base__.__subclasses__() %}{{ c }}{% endfor %}",
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "{{ joiner.__init__.__globals__ }}",
    "{{ namespace.__init__.__globals__ }}",
    "{{ lipsum.__globals__['os'].popen('id').read() }}",
    "{{ self._TemplateReference__context }}",
    "{{ self._TemplateReference__context.cycler.__init__.__globals__ }}",
    "{{ self.__dict__ }}",
    "{{ request.application.__globals__.__builtins__.__import__('os').popen('id').read() }}",
    "{{ config.__class__.__init__.__globals__['os'].popen('id').read() }}",
    "{{ config.items() }}",
    "{{ '{0.__class__}'.format(store) }}",
    "{{ '{0.__class__.__mro__}'.format('') }}",
    "{{ '{0[__class__]}'.format(store) }}",
    "{{ '{x.__init__.__globals__}'.format_map({'x': store}) }}",
    "{{ store|attr('__class__') }}",
    "{{ ''|attr('__class__')|attr('__mro__') }}",
    "{{ '%s'|format(self) }}",
    "{{ '%s' % money }}",
    "{{ '%s'|format(store.name.upper) }}",
    "{{ ''.__class__.mro() }}",
    "{{ store.name.mro() }}",
    "{{ __import__('os').system('id') }}",
    "{{ getattr('', '__class__') }}",
    "{{ store['__class__'] }}",
    "{{ items.__len__() }}",
    "{{ money.__globals__ }}",
    "{{ range.__self__ }}",
    "{{ labels.copy.__self__ }}",
    "{{ (1).to_bytes(4, 'big') }}",
    "{{ ''.encode('utf-8') }}",
    "{{ dict(a=1) }}",
    "{{ x|safe }}",
    "{{ store|pprint }}",
    "{{ store.name|urlize }}",
    "{% for x in [1] recursive %}{{ loop([]) }}{% endfor %}",
    "{% include 'layout.html' %}",
    "{% import 'os' as os %}",
    "{% extends '/etc/passwd' %}",
    "{{ money }}",
    "{{ self }}",
    "{{ 'x' ~ store.get }}",
    "{{ [money]|join }}",
    "{{ money|string }}",
    "{{ items|map(attribute='name') }}",
]


@pytest.mark.parametrize("payload", ESCAPES)
def test_sandbox_escapes_raise_and_leak_nothing(payload: str) -> None:
    with pytest.raises(InvalidInput) as error:
        render_sms(payload)
    assert error.value.field in ("text", "subject"), str(error.value)
    assert not LEAKS.search(str(error.value)), str(error.value)


def test_no_globals_but_the_ones_added_on_purpose() -> None:
    expected = {
        "money",
        "number",
        "percent",
        "date",
        "time",
        "datetime",
        "timedelta",
        "country",
        "range",
    }
    assert set(engines().html.globals) == expected
    assert set(engines().text.globals) == expected
    assert (
        render_sms(
            "[{{ cycler }}|{{ joiner }}|{{ namespace }}|{{ lipsum }}|{{ config }}|{{ request }}]"
        )
        == "[|||||]"
    )


BOMBS = [
    ("{{ 'a' * 10**8 }}", "template builds a value larger than 262144 characters (1 × 100000000)"),
    (
        "{{ 'x' * 99999999 }}",
        "template builds a value larger than 262144 characters (1 × 99999999)",
    ),
    ("{{ 10**8 * 'a' }}", "template builds a value larger than 262144 characters (1 × 100000000)"),
    ("{{ [1] * 10**9 }}", "template builds a value larger than 262144 items (1 × 1000000000)"),
    ("{{ 10 ** 10 ** 10 }}", "template builds a value larger than 256 bits (10000000000 ** 10)"),
    ("{{ 10 ** (10 ** 10) }}", "template builds a value larger than 256 bits (10 ** 10000000000)"),
    ("{{ 2 ** 200 }}", "template builds a value larger than 256 bits (2 ** 200)"),
    (
        "{% set a = 2 ** 127 %}{{ a * a * a }}",
        "template builds a value larger than 256 bits (integer arithmetic)",
    ),
    ("{{ range(10**9) }}", "template builds a value larger than 10000 items (range of 1000000000)"),
    (
        "{{ range(10**9)|list }}",
        "template builds a value larger than 10000 items (range of 1000000000)",
    ),
    (
        "{{ '%0999999999d'|format(1) }}",
        "template builds a value larger than 1000 characters (format width 999999999)",
    ),
    (
        "{{ '%0999999999d' % 1 }}",
        "template builds a value larger than 1000 characters (format width 999999999)",
    ),
    (
        "{{ '%.999999999f' % 1.5 }}",
        "template builds a value larger than 1000 characters (format width 999999999)",
    ),
    ("{{ '%*d' % (999999999, 1) }}", "template format widths must be written as numbers, not '*'"),
    (
        "{{ '{:>999999999}'.format(1) }}",
        "template builds a value larger than 1000 characters (format width 999999999)",
    ),
    ("{{ '{:>{w}}'.format(1, w=999999999) }}", "template format widths must be written as numbers"),
    (
        "{{ ('{0}' * 80000).format('x' * 1000) }}",
        "template builds a value larger than 262144 characters (str.format)",
    ),
    (
        "{{ 'x'|center(999999999) }}",
        "template builds a value larger than 262144 characters (center width 999999999)",
    ),
    (
        "{{ 'x'.ljust(999999999) }}",
        "template builds a value larger than 262144 characters (ljust width 999999999)",
    ),
    (
        "{{ 'x'.zfill(999999999) }}",
        "template builds a value larger than 262144 characters (zfill width 999999999)",
    ),
    (
        "{{ ('x\n' * 1000)|indent(100000) }}",
        "template builds a value larger than 262144 characters (indent)",
    ),
    (
        "{{ ('x' * 1000)|replace('x', 'y' * 1000) }}",
        "template builds a value larger than 262144 characters (replace)",
    ),
    (
        "{{ ('x' * 1000).replace('', 'y' * 1000) }}",
        "template builds a value larger than 262144 characters (replace)",
    ),
    (
        "{{ ('x' * 200000) ~ ('x' * 200000) }}",
        "template builds a value larger than 262144 characters (~)",
    ),
    (
        "{% set a = 'x' * 200000 %}{{ [a, a, a]|join }}",
        "template builds a value larger than 262144 characters (join)",
    ),
    (
        "{% set a = 'x' * 200000 %}{{ '-'.join([a, a]) }}",
        "template builds a value larger than 262144 characters (join)",
    ),
    ("{{ ['x' * 100000] * 100000 }}", "template builds a value larger than 262144 characters"),
    (
        "{{ (['x' * 100000] * 100000)|string }}",
        "template builds a value larger than 262144 characters",
    ),
    (
        "{{ ('x' * 200000) + ('x' * 200000) }}",
        "template builds a value larger than 262144 characters or items (+)",
    ),
    (
        "{{ [1]|batch(10**9, 0)|list }}",
        "template builds a value larger than 10000 items (batch/slice of 1000000000)",
    ),
    (
        "{{ [1]|slice(10**9)|list }}",
        "template builds a value larger than 10000 items (batch/slice of 1000000000)",
    ),
    ("{{ [[1] * 1000] * 100|sum(start=[]) }}", "template sum() only adds numbers"),
    (
        "{{ ('x' * 100000)|wordwrap(1, wrapstring='y' * 100) }}",
        "template builds a value larger than 262144 characters (wordwrap)",
    ),
    (
        "{% for a in range(10000) %}{% for b in range(10000) %}{% endfor %}{% endfor %}",
        "template runs more than 100000 loop iterations and calls",
    ),
    (
        "{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(30) }}",
        "template runs more than 100000 loop iterations and calls",
    ),
    ("{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}", "template nests calls deeper than 40"),
    (
        "{% macro f(s) %}{{ f(s ~ s) }}{% endmacro %}{{ f('x' * 1000) }}",
        "template builds a value larger than 262144 characters (~)",
    ),
    (
        "{% set s %}{% for i in range(10000) %}{{ 'y' * 2000 }}{% endfor %}{% endset %}",
        "template produces more than 8388608 characters in all",
    ),
    (
        "{% set s %}{% for i in range(10000) %}" + "z" * 5000 + "{% endfor %}{% endset %}",
        "template produces more than 8388608 characters in all",
    ),
    (
        "{% for i in range(3000) %}{{ 'x' * 200 }}{% endfor %}",
        "template output is larger than 524288 characters",
    ),
]


@pytest.mark.parametrize(("payload", "message"), BOMBS)
def test_size_and_work_bombs_are_refused_with_a_clear_message(payload: str, message: str) -> None:
    with pytest.raises(InvalidInput) as error:
        render_sms(payload)
    assert str(error.value) == f"text: {message}"
    assert error.value.field == "text"


def test_ordinary_template_code_still_works() -> None:
    source = (
        "{% set total = items|map(attribute='line_total')|sum %}"
        "{{ first_name|upper }} {{ items|length }} {{ total|money }} {{ 7 // 2 }} {{ 2 ** 10 }} "
        "{{ '%s-%05.1f'|format('a', 3.14159) }} {{ '{}/{}'.format(1, 2) }} {{ 'ab' * 3 }} "
        "{% for item in items %}{{ loop.index }}{{ loop.cycle('a', 'b') }}{% endfor %} "
        "{{ items|map(attribute='name')|join(', ') }} {{ store.name.replace('Maison', 'M.') }} "
        "{{ [3, 1, 2]|sort|join }} {{ range(3)|list }} {{ missing.anything.at.all }}|{{ none }}|"
        "{{ store.get('domain') }} {{ 'x'|center(5) }}."
    )
    assert render_sms(source) == (
        "ANNA 2 €1,234.56 3 1024 a-003.1 1/2 ababab 1a2b Linen shirt, Canvas tote "
        "M. Lumière 123 [0, 1, 2] ||boutique.example x ."
    )


def test_a_first_name_is_escaped_in_html_but_not_in_text() -> None:
    compiled = compile_template(
        key="abandoned_checkout/reminder",
        locale="en",
        channel=Channel.EMAIL,
        subject="Hi {{ first_name }}",
        html='{% extends "layout.html" %}{% block content %}<p>Dear {{ first_name }}</p>{% endblock %}',
        text='{% extends "layout.txt" %}{% block content %}Dear {{ first_name }}{% endblock %}',
    )
    renderer = TemplateRenderer(overrides=Overrides(compiled))
    context = full_context(
        locale="en", first_name="<script>alert('x')</script>\r\nBcc: all@example.com"
    )
    rendered = renderer.render(
        key="abandoned_checkout/reminder", channel=Channel.EMAIL, context=context, store_id="s1"
    )
    assert rendered.subject == "Hi <script>alert('x')</script> Bcc: all@example.com"  # one line
    assert "Dear &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in (rendered.html or "")
    assert "<script>" not in (rendered.html or "")
    assert "Dear <script>alert('x')</script>" in rendered.text
