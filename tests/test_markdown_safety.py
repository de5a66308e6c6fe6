"""lms.markdown: hostile input never yields executable HTML; real Markdown survives."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lms.markdown import (
    ALLOWED_TAGS,
    convert_markdown,
    fenced_code_lines,
    is_relative_url,
    render_markdown,
    sanitiser_keeps_attribute,
    sanitiser_keeps_element,
)
from lms.markdown_inspect import inspect_markdown

ALLOWED_ATTRIBUTES = {
    "id", "href", "title", "src", "alt", "width", "height", "class", "start",
    "scope", "colspan", "rowspan", "align", "lang", "rel",
}  # fmt: skip
URL_ATTRIBUTES = {"href", "src"}
SAFE_SCHEMES = {"http", "https", "mailto"}
# What browsers drop from a URL before reading its scheme.
URL_NOISE = re.compile(r"[\x00-\x20\x7f-\xa0\s]+")


class _Collector(HTMLParser):
    """Every start tag with its attributes, values unescaped as a browser does."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


def unsafe_constructs(output: str) -> list[str]:
    """Everything in *output* that could run script or restyle the page."""
    found = [
        f"raw {marker}"
        for marker in ("<script", "<iframe", "<form", "<style", "<svg", "<math", "<object")
        if marker in output.lower()
    ]
    collector = _Collector()
    collector.feed(output)
    collector.close()
    for tag, attrs in collector.tags:
        if tag not in ALLOWED_TAGS:
            found.append(f"tag {tag}")
        for name, value in attrs:
            if name.startswith("on") or name == "style" or name not in ALLOWED_ATTRIBUTES:
                found.append(f"attribute {name} on {tag}")
            if name in URL_ATTRIBUTES and value is not None:
                normalised = URL_NOISE.sub("", value).lower()
                scheme = re.match(r"([a-z][a-z0-9+.-]*):", normalised)
                if scheme and scheme.group(1) not in SAFE_SCHEMES:
                    found.append(f"{name}={value!r} on {tag}")
                if normalised.startswith(("javascript:", "vbscript:", "data:")):
                    found.append(f"{name}={value!r} on {tag}")
    return found


HOSTILE = {
    "script": "<script>alert(1)</script>",
    "script uppercase": "<SCRIPT SRC=https://evil.example/x.js></SCRIPT>",
    "script split": "<scr<script>ipt>alert(1)</script>",
    "script nested brackets": "<<script>script>alert(1)<</script>/script>",
    "script in paragraph": "Testo <script>alert(1)</script> testo",
    "img onerror": '<img src="x" onerror="alert(1)">',
    "img onerror unquoted": "<img src=x onerror=alert(1)>",
    "img onerror slash": "<img/src=x/onerror=alert(1)>",
    "a javascript mixed case": '<a href="JaVaScRiPt:alert(1)">x</a>',
    "a javascript decimal entity": '<a href="&#106;avascript:alert(1)">x</a>',
    "a javascript hex entity": '<a href="&#x6A;avascript:alert(1)">x</a>',
    "a javascript padded entities": '<a href="&#0000106&#0000097vascript:alert(1)">x</a>',
    "a javascript named entity colon": '<a href="javascript&colon;alert(1)">x</a>',
    "a javascript tab": '<a href="jav\tascript:alert(1)">x</a>',
    "a javascript newline": '<a href="jav\nascript:alert(1)">x</a>',
    "a javascript entity tab": '<a href="jav&#x09;ascript:alert(1)">x</a>',
    "a javascript NUL": '<a href="java\0script:alert(1)">x</a>',
    "a javascript leading space": '<a href=" javascript:alert(1)">x</a>',
    "a javascript leading control": '<a href="\x01javascript:alert(1)">x</a>',
    "a data html": '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    "a vbscript": '<a href="vbscript:msgbox(1)">x</a>',
    "a quote breaking": "<a href='x\"onclick=\"alert(1)'>q</a>",
    "a onclick": '<a href="https://example.org" onclick="alert(1)">x</a>',
    "a onmouseover unquoted": "<a href=https://example.org onmouseover=alert(1)>x</a>",
    "iframe": '<iframe src="https://evil.example"></iframe>',
    "iframe srcdoc": '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    "form": '<form action="https://evil.example"><input name="p"><button>Go</button></form>',
    "input autofocus": "<input autofocus onfocus=alert(1)>",
    "textarea": "<textarea onfocus=alert(1) autofocus>x</textarea>",
    "svg onload": "<svg onload=alert(1)><circle r=10 /></svg>",
    "svg script": "<svg><script>alert(1)</script></svg>",
    "svg xlink": '<svg><a xlink:href="javascript:alert(1)"><text>x</text></a></svg>',
    "math": '<math><mi xlink:href="javascript:alert(1)">x</mi></math>',
    "style tag": "<style>body { display: none }</style>",
    "style import": '<style>@import "https://evil.example/x.css";</style>',
    "style attribute": '<p style="background:url(javascript:alert(1))">x</p>',
    "style attribute on div": '<div style="position:fixed;top:0">x</div>',
    "object": '<object data="javascript:alert(1)"></object>',
    "embed": '<embed src="javascript:alert(1)">',
    "base": '<base href="https://evil.example/">',
    "meta refresh": '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    "link stylesheet": '<link rel="stylesheet" href="https://evil.example/x.css">',
    "markdown link javascript": "[x](javascript:alert(1))",
    "markdown link javascript mixed case": "[x](JAVAscript:alert(1))",
    "markdown link javascript entity": "[x](&#106;avascript:alert(1))",
    "markdown link javascript angle": "[x](<javascript:alert(1)>)",
    "markdown link vbscript": "[x](vbscript:msgbox(1))",
    "markdown link data": "[x](data:text/html,<script>alert(1)</script>)",
    "markdown image data svg": "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "markdown image javascript": "![x](javascript:alert(1))",
    "markdown image title breakout": '![x](https://example.org/a.png "a\\" onerror=\\"alert(1))',
    "markdown link title breakout": '[x](https://example.org "x\\" onclick=\\"alert(1)")',
    "autolink javascript": "<javascript:alert(1)>",
    "autolink data": "<data:text/html,<script>alert(1)</script>>",
    "reference link javascript": "[x][r]\n\n[r]: javascript:alert(1)",
    "reference image data": "![x][r]\n\n[r]: data:image/svg+xml,<svg/onload=alert(1)>",
    "html comment": "<!-- --><script>alert(1)</script><!-- -->",
    "conditional comment": "<!--[if gte IE 4]><script>alert(1)</script><![endif]-->",
    "comment breakout": "<!--><img src=x onerror=alert(1)>-->",
    "unclosed tag": "<p>unclosed <b onclick=alert(1)>bold",
    "unclosed attribute": '<a href="https://example.org onclick=alert(1)>x',
    "nested quotes": "<img src=\"x\" alt='\"' onerror=alert(1)//'>",
    "details ontoggle": "<details open ontoggle=alert(1)><summary>x</summary></details>",
    "body onload": "<body onload=alert(1)>",
    "frameset": "<frameset onload=alert(1)><frame src=x></frameset>",
    "template": "<template><script>alert(1)</script></template>",
    "noscript breakout": '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    "table background": '<table background="javascript:alert(1)"><tr><td>x</td></tr></table>',
    "td style": '<table><tr><td style="color:red" onclick="x">x</td></tr></table>',
    "admonition with script": '!!! note "<script>alert(1)</script>"\n    testo',
    "admonition class injection": '!!! "x onclick=alert(1)"\n    testo',
    "heading attribute injection": '# Titolo <img src=x onerror="alert(1)">',
    "footnote with script": "Testo[^1]\n\n[^1]: <script>alert(1)</script>",
    "class injection": '<span class="x" id="y" onclick="z">x</span>',
    "formaction": '<button formaction="javascript:alert(1)">x</button>',
    "srcset": '<img src="x.png" srcset="javascript:alert(1) 1x">',
    "xml namespace": (
        '<a xmlns:xlink="http://www.w3.org/1999/xlink" xlink:href="javascript:1">x</a>'
    ),
    "applet": '<applet code="x"></applet>',
    "fenced code keeps script inert": "```html\n<script>alert(1)</script>\n```",
    "inline code keeps script inert": "`<script>alert(1)</script>`",
    "bracketed host autolink": "<http://[x](>",
    "bracketed host link": "[x](http://[x]/a)",
    "protocol in uppercase entity": '<a href="&#74;&#65;&#86;&#65;script:alert(1)">x</a>',
}


def test_the_hostile_corpus_is_large() -> None:
    assert len(HOSTILE) >= 40


@pytest.mark.parametrize("source", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_input_renders_without_executable_html(source: str) -> None:
    output = render_markdown(source)
    assert unsafe_constructs(output) == [], output


@pytest.mark.parametrize("source", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_input_stays_safe_through_a_link_resolver(source: str) -> None:
    output = render_markdown(source, link_resolver=lambda url: f"/courses/c/{url}")
    assert unsafe_constructs(output) == [], output


def test_the_checker_itself_catches_unsafe_html() -> None:
    # A test of the test: each of these must be reported.
    assert unsafe_constructs("<script>x</script>")
    assert unsafe_constructs('<a href="JaVa&#x09;script:x">x</a>')
    assert unsafe_constructs('<img src="data:image/png;base64,xx">')
    assert unsafe_constructs('<p onclick="x">x</p>')
    assert unsafe_constructs('<p style="x">x</p>')
    assert unsafe_constructs("<iframe></iframe>")
    assert unsafe_constructs('<a href="vbscript:x">x</a>')
    assert unsafe_constructs("<input>")
    assert not unsafe_constructs('<p><a href="https://x.org" rel="noopener noreferrer">x</a></p>')


def test_a_resolver_that_returns_a_dangerous_url_is_still_sanitised() -> None:
    output = render_markdown("[x](media/a.pdf)", link_resolver=lambda _: "javascript:alert(1)")
    assert unsafe_constructs(output) == []
    assert "<a>x</a>" in output


def test_dangerous_text_is_escaped_not_dropped_silently() -> None:
    output = render_markdown("Non scrivete mai `<script>` in un modulo.")
    assert "<code>&lt;script&gt;</code>" in output


DANGEROUS_FRAGMENTS = [
    "<script>", "</script>", "<script src=x>", "<img src=x onerror=alert(1)>", "<img",
    " onerror=", " onload=", " onclick=", "javascript:", "JaVaScRiPt:", "vbscript:",
    "data:text/html,", "data:image/svg+xml;base64,PHN2Zz4=", "&#106;", "&#x6A;", "&#0000106",
    "&colon;", "&Tab;", "&#9;", "\t", "\n", "\r", "\x00", "\x01", " ", '"', "'", "`",
    "<", ">", "=", "/", ":", ";", "&", "(", ")", "[", "]", "!", "#", "*", "_", "|",
    "<a href=", "<a href='", '<a href="', "</a>", "<iframe", "<form", "<input", "<style>",
    "style=", "<svg", "<math", "<object", "<embed", "<base href=", "<meta", "<link",
    "<!--", "-->", "<![CDATA[", "]]>", "<div", "<span", "<p", "class=", "id=", "src=",
    "href=", "alert(1)", "java", "script", "\\",
]  # fmt: skip
MARKDOWN_FRAGMENTS = [
    "[x](", "![x](", "](", "[r]: ", "[r]", "[^1]", "[^1]: ", "<http://", "# ", "## ",
    "```\n", "~~~\n", "    ", "> ", "- ", "1. ", "- [x] ", "!!! note\n    ", '!!! "',
    "| a | b |\n|---|---|\n| ", "[TOC]\n", "---\n", "***", "\n\n", "https://example.org",
    "media/a.png", "02-fondi.md#x", "mailto:a@b.it", ' "title"',
]  # fmt: skip

hostile_markdown = st.lists(
    st.one_of(
        st.sampled_from(DANGEROUS_FRAGMENTS),
        st.sampled_from(MARKDOWN_FRAGMENTS),
        st.text(max_size=4),
    ),
    max_size=40,
).map("".join)


# The autouse `db` fixture of conftest is function-scoped; these tests never use it.
@settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(hostile_markdown)
def test_random_hostile_markdown_never_renders_executable_html(source: str) -> None:
    output = render_markdown(source)
    assert unsafe_constructs(output) == [], (source, output)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(hostile_markdown)
def test_random_hostile_markdown_with_a_resolver_never_renders_executable_html(
    source: str,
) -> None:
    output = render_markdown(source, link_resolver=lambda url: f"/courses/c/{url}")
    assert unsafe_constructs(output) == [], (source, output)


# Markdown that must survive -----------------------------------------------


def test_tables_render_with_alignment_but_no_style() -> None:
    output = render_markdown("| Fondo | Quota |\n|:--|--:|\n| FESR | 60% |")
    assert "<table>" in output
    assert '<th align="left">Fondo</th>' in output
    assert '<td align="right">60%</td>' in output
    assert "style" not in output


def test_admonitions_keep_their_classes_and_title() -> None:
    output = render_markdown('!!! warning "Attenzione"\n    Scadenza il 31 dicembre.')
    assert '<div class="admonition warning">' in output
    assert '<p class="admonition-title">Attenzione</p>' in output
    assert "<p>Scadenza il 31 dicembre.</p>" in output


def test_an_unknown_admonition_type_keeps_only_the_admonition_class() -> None:
    output = render_markdown("!!! bizzarro\n    Testo.")
    assert '<div class="admonition">' in output


def test_raw_html_with_unknown_classes_loses_the_class() -> None:
    output = render_markdown('<div class="admonition note">a</div><div class="btn evil">b</div>')
    assert '<div class="admonition note">a</div>' in output
    assert "<div>b</div>" in output


def test_footnotes_render_with_links_both_ways() -> None:
    output = render_markdown("Il RDC[^rdc] si applica.\n\n[^rdc]: Regolamento (UE) 2021/1060.")
    assert '<sup id="fnref:rdc"><a class="footnote-ref" href="#fn:rdc">1</a></sup>' in output
    assert '<div class="footnote">' in output
    assert '<li id="fn:rdc">' in output
    assert 'class="footnote-backref" href="#fnref:rdc"' in output


def test_headings_get_ids_and_toc_lists_them() -> None:
    output = render_markdown("[TOC]\n\n## Obiettivi strategici\n\n## Qualità della spesa")
    assert '<div class="toc">' in output
    assert '<h2 id="obiettivi-strategici">Obiettivi strategici</h2>' in output
    assert '<h2 id="qualita-della-spesa">' in output
    assert '<a href="#qualita-della-spesa">' in output


def test_fenced_code_keeps_its_language_class_and_text() -> None:
    output = render_markdown("```python\nif a < b:\n    print('x')\n```")
    assert '<pre><code class="language-python">' in output
    assert "if a &lt; b:" in output


def test_sane_lists_keep_the_start_number() -> None:
    output = render_markdown("3. tre\n4. quattro")
    assert '<ol start="3">' in output


def test_definition_like_and_inline_markup_survive() -> None:
    output = render_markdown(
        '**grassetto**, *corsivo*, <abbr title="Fondo europeo">FESR</abbr>, H<sub>2</sub>O,'
        ' <span lang="en">cohesion policy</span>\n\n---\n\n> citazione'
    )
    assert "<strong>grassetto</strong>" in output
    assert "<em>corsivo</em>" in output
    assert '<abbr title="Fondo europeo">FESR</abbr>' in output
    assert "<sub>2</sub>" in output
    assert '<span lang="en">cohesion policy</span>' in output
    assert "<hr>" in output
    assert "<blockquote>" in output


def test_external_links_get_noopener_and_internal_ones_do_not() -> None:
    output = render_markdown(
        "[Inforegio](https://ec.europa.eu/regional_policy) [a](#sezione) [m](mailto:a@b.it)"
        " [p](//example.org/x)"
    )
    assert (
        '<a href="https://ec.europa.eu/regional_policy" rel="noopener noreferrer">Inforegio</a>'
        in output
    )
    assert '<a href="#sezione">a</a>' in output
    assert '<a href="mailto:a@b.it">m</a>' in output
    assert '<a href="//example.org/x" rel="noopener noreferrer">p</a>' in output


def test_images_keep_src_alt_and_title() -> None:
    output = render_markdown('![Ciclo del programma](https://example.org/c.png "Il ciclo")')
    assert '<img alt="Ciclo del programma" src="https://example.org/c.png" title="Il ciclo">' in (
        output
    )


# The link resolver ---------------------------------------------------------


def test_relative_links_and_images_go_through_the_resolver() -> None:
    seen: list[str] = []

    def resolver(url: str) -> str | None:
        seen.append(url)
        return None if url == "lascia.md" else f"/courses/c/{url}"

    output = render_markdown(
        "[m](02-fondi.md#x) ![s](media/ciclo.png) [r][ref] [l](lascia.md)"
        " [e](https://example.org) [a](#x) [r2](/assoluto) [mail](mailto:a@b.it)\n\n"
        "[ref]: media/allegato.pdf",
        link_resolver=resolver,
    )
    assert seen == ["02-fondi.md#x", "media/ciclo.png", "media/allegato.pdf", "lascia.md"]
    assert '<a href="/courses/c/02-fondi.md#x">m</a>' in output
    assert 'src="/courses/c/media/ciclo.png"' in output
    assert '<a href="/courses/c/media/allegato.pdf">r</a>' in output
    assert '<a href="lascia.md">l</a>' in output
    assert '<a href="/assoluto">r2</a>' in output


def test_links_inside_code_are_not_resolved() -> None:
    output = render_markdown(
        "`[x](media/a.png)`\n\n```\n[y](media/b.png)\n```",
        link_resolver=lambda url: f"/R/{url}",
    )
    assert "/R/" not in output


@pytest.mark.parametrize(
    ("url", "relative"),
    [
        ("02-fondi.md", True),
        ("media/a.png", True),
        ("./media/a.png", True),
        ("../x.png", True),
        ("#x", False),
        ("/x", False),
        ("//example.org", False),
        ("https://example.org", False),
        ("mailto:a@b.it", False),
        ("javascript:alert(1)", False),
        ("", False),
    ],
)
def test_is_relative_url(url: str, *, relative: bool) -> None:
    assert is_relative_url(url) is relative


def test_fenced_code_lines_marks_fences_and_their_content() -> None:
    lines = ["a", "```python", "## x", "```", "b", "~~~~", "```", "~~~~", "c", "```", "open"]
    assert fenced_code_lines(lines) == [
        False, True, True, True, False, True, True, True, False, True, True,
    ]  # fmt: skip


@pytest.mark.parametrize(
    "source",
    [
        "Prima\n\n<script>alert('segreto')</script>\n\nDopo",
        "Prima <STYLE type='text/css'>body{display:none} segreto</STYLE> Dopo",
        "Prima\n\n<script>\nalert('segreto')\n</script>\n\nDopo",
        "Prima\n\n<script>alert('segreto')",  # never closed: removed to the end
    ],
)
def test_script_and_style_go_with_their_content(source: str) -> None:
    """Bleach keeps a removed tag's text; a script's source must not show as words."""
    html = render_markdown(source)
    assert "segreto" not in html
    assert "Prima" in html
    assert "<script" not in html.lower()
    assert "<style" not in html.lower()


def test_code_that_shows_a_script_tag_still_shows_it() -> None:
    html = render_markdown("Scrivi `<script>` così.\n\n```html\n<script>x()</script>\n```")
    assert "&lt;script&gt;" in html
    assert "x()" in html


# The content checker's view of a page ---------------------------------------------

STRUCTURE_FRAGMENTS = [
    "\n", "\n\n", "    ", "  \n", "> ", "- ", "1. ", "```\n", "~~~\n", "`", "``", "_", "*",
    "[a]", "[b]", "[a]: media/a.png", "]", "[", "(", ")", "![x](media/b.png)", "[y](02-x.md)",
    "<div>", "</div>", "<u>", "</u>", "<span\nclass=x>", "<!--", "-->", "&amp", "&#106;", "\\",
    "[^1]", "[^1]: nota", "| a | b |\n|---|---|\n", "!!! note\n    ", "[TOC]", "# ", "text",
    "\t", '"t"', "<https://example.org>", "<a@b.it>",
]  # fmt: skip
structured_markdown = st.lists(st.sampled_from(STRUCTURE_FRAGMENTS), max_size=30).map("".join)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.one_of(hostile_markdown, structured_markdown))
def test_the_checker_sees_the_page_the_renderer_makes(source: str) -> None:
    """The inspection watches the page's own parse and leaves it as it was."""
    page = inspect_markdown(source)
    assert page.html == convert_markdown(source), source
    lines = len(source.split("\n"))
    for found in (*page.links, *page.references, *page.elements):
        assert 1 <= found.line <= lines, (source, found)


@pytest.mark.parametrize("source", HOSTILE.values(), ids=HOSTILE.keys())
def test_the_checker_sees_the_hostile_pages_as_rendered(source: str) -> None:
    assert inspect_markdown(source).html == convert_markdown(source)


@pytest.mark.parametrize(
    "source",
    [
        "    [x](a.md)\n    <u>x</u> <script>x</script>",
        "```html\n[x](a.md)\n<u>x</u>\n```",
        "`[x](a.md)` and `<u>x</u>` and ``<img src=x>``",
        "- item\n\n        ![](a.png)\n        <video>",
    ],
)
def test_code_holds_no_links_and_no_raw_html(source: str) -> None:
    page = inspect_markdown(source)
    assert (page.links, page.references, page.elements) == ((), (), ())


def test_the_inspection_gives_each_thing_its_line() -> None:
    page = inspect_markdown(
        "[a](a.md)\n"  # 1
        "```\n[b](b.md)\n```\n"  # 2-4
        "Testo ![c](c.png)\n"  # 5
        "<span\n"  # 6
        "  lang=en>x</span> [d][r]\n"  # 7
        "\n"  # 8
        "<div>\n<u>y</u>\n</div>\n"  # 9-11
        "\n"  # 12
        "[r]: d.md\n"  # 13
    )
    assert [(link.tag, link.url, link.line, link.via_reference) for link in page.links] == [
        ("a", "a.md", 1, False),
        ("img", "c.png", 5, False),
        ("a", "d.md", 7, True),
    ]
    assert [(ref.name, ref.url, ref.line) for ref in page.references] == [("r", "d.md", 13)]
    assert [(element.tag, element.line, element.inside) for element in page.elements] == [
        ("span", 6, ()),
        ("div", 9, ()),
        ("u", 10, ("div",)),
    ]
    assert page.elements[0].attributes == (("lang", "en"),)


TAGS_TO_JUDGE = [
    "p", "a", "abbr", "span", "div", "details", "u", "video", "audio", "svg", "iframe",
    "font", "center", "section", "article", "mark", "s", "table", "label", "picture",
]  # fmt: skip


@pytest.mark.parametrize("tag", TAGS_TO_JUDGE)
def test_the_sanitisers_verdict_on_an_element_is_what_bleach_does(tag: str) -> None:
    output = render_markdown(f"<div>\n<{tag}>parola</{tag}>\n</div>")
    assert (f"<{tag}>" in output) is sanitiser_keeps_element(tag), output
    assert "parola" in output  # removed or not, its text stays


@pytest.mark.parametrize(
    ("tag", "name", "value"),
    [
        ("span", "lang", "en"), ("span", "lang", "x y"), ("span", "style", "color: red"),
        ("span", "class", "note"), ("span", "class", "btn"), ("div", "id", "x"),
        ("td", "colspan", "2"), ("td", "colspan", "due"), ("a", "target", "_blank"),
        ("a", "title", "t"), ("img", "width", "30"), ("img", "width", "30%"),
        ("details", "open", ""), ("p", "onclick", "x()"),
    ],
)  # fmt: skip
def test_the_sanitisers_verdict_on_an_attribute_is_what_bleach_does(
    tag: str, name: str, value: str
) -> None:
    element = f'<{tag} {name}="{value}">x</{tag}>'
    if tag == "td":
        element = f"<table><tr>{element}</tr></table>"
    output = render_markdown(f"<div>\n{element}\n</div>")
    assert (f'{name}="{value}"' in output) is sanitiser_keeps_attribute(tag, name, value), output


def test_the_documented_elements_are_the_sanitisers() -> None:
    """docs/content-format.md lists what the page keeps: that list, not another one."""
    guide = (Path(__file__).resolve().parent.parent / "docs" / "content-format.md").read_text()
    listed = re.search(r"Elements the page keeps.*?: (.*?)\.\n", guide, re.DOTALL)
    assert listed is not None
    assert set(re.findall(r"`([a-z0-9]+)`", listed.group(1))) == ALLOWED_TAGS
