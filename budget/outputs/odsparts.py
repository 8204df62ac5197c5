"""The small parts of an .ods file: cell and number styles, page styles, validations, settings, meta, manifest.

Used by :mod:`budget.outputs.ods`; each function turns the xlsxwriter-style settings a writer gave
into ODF 1.3 XML text.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Sequence
from xml.sax.saxutils import escape, quoteattr

from .openformula import quote_sheet, to_openformula

MIMETYPE = "application/vnd.oasis.opendocument.spreadsheet"
#: The namespaces every part of the package declares (content.xml adds its own after these).
CORE_NS = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
           'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
           'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
           'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
           'xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0" '
           'xmlns:number="urn:oasis:names:tc:opendocument:xmlns:datastyle:1.0" '
           'xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0" ')
NS = (CORE_NS + 'xmlns:config="urn:oasis:names:tc:opendocument:xmlns:config:1.0" '
      'xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" xmlns:dc="http://purl.org/dc/elements/1.1/" '
      'office:version="1.3"')
#: Font families tried, in order, after the one a format names (ODF's svg:font-family is a CSS list).
CJK_FALLBACK = ("Microsoft JhengHei", "PMingLiU", "Noto Sans CJK TC", "Noto Sans TC", "PingFang TC")
_BORDERS = {1: "0.74pt solid", 2: "1.75pt solid", 3: "0.74pt dashed", 4: "0.74pt dotted", 5: "2.5pt solid",
            6: "2.01pt double", 7: "0.5pt solid", 8: "1.75pt dashed"}
_COLORS = {"black": "#000000", "white": "#ffffff", "red": "#ff0000", "green": "#008000", "blue": "#0000ff",
           "yellow": "#ffff00", "gray": "#808080", "grey": "#808080", "orange": "#ff6600"}
_ALIGN = {"left": "start", "center": "center", "centre": "center", "right": "end", "justify": "justify"}
_VALIGN = {"top": "top", "vcenter": "middle", "vcentre": "middle", "bottom": "bottom", "vjustify": "justify"}
_PAPER = {1: ("21.59cm", "27.94cm"), 9: ("21cm", "29.7cm"), 8: ("29.7cm", "42cm"), 5: ("21.59cm", "35.56cm")}


_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_SPACES = re.compile(r"(?<= ) +|^ +")


def text_xml(text: str) -> str:
    """``text`` as the paragraphs of a cell: one ``text:p`` per line, runs of spaces and tabs kept."""
    if _ILLEGAL_XML.search(text):
        text = _ILLEGAL_XML.sub("\ufffd", text)
    out = []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        piece = escape(line)
        if "  " in piece or piece.startswith(" "):
            piece = _SPACES.sub(lambda m: f'<text:s text:c="{len(m.group())}"/>', piece)
        if "\t" in piece:
            piece = piece.replace("\t", "<text:tab/>")
        out.append(f"<text:p>{piece}</text:p>")
    return "".join(out)


def number_text(value: Any) -> str:
    if isinstance(value, bool):
        raise TypeError("write_boolean for booleans")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"not a finite number: {value}")
        return format(value, "f")
    number = float(value)
    if math.isnan(number) or math.isinf(number):
        raise ValueError(f"not a finite number: {value!r}")
    return repr(number)


def cached_attrs(value: Any) -> tuple[str, str]:
    """A formula's cached value as (attributes, paragraphs)."""
    if value is None:
        value = 0
    if isinstance(value, bool):
        return f' office:value-type="boolean" office:boolean-value="{str(value).lower()}"', ""
    if isinstance(value, str):
        return f' office:value-type="string" office:string-value={quoteattr(value)}', text_xml(value)
    return f' office:value-type="float" office:value="{number_text(value)}"', ""


def a1(row: int, col: int) -> str:
    letters = ""
    col += 1
    while col:
        col, rest = divmod(col - 1, 26)
        letters = chr(65 + rest) + letters
    return f"{letters}{row + 1}"



@dataclass
class Format:
    """A cell format: xlsxwriter's properties and the automatic style that carries them."""

    props: dict[str, Any]
    style_name: str
    extra: dict[str, Any] = field(default_factory=dict)

    def set_num_format(self, num_format: str) -> None:
        self.props["num_format"] = num_format

    def __getattr__(self, name: str) -> Any:  # set_bold(), set_bg_color(…) …: any xlsxwriter setter
        if name.startswith("set_"):
            key = name[4:]
            return lambda value=True: self.props.__setitem__(key, value)
        raise AttributeError(name)


def column_width(width: float | None) -> str:
    """An xlsxwriter column width (characters of the default font) in inches."""
    chars = 8.43 if width is None else max(float(width), 0)
    pixels = 0 if chars == 0 else int(chars * 7 + 5) if chars >= 1 else int(chars * 12 + 0.5)
    return f"{pixels / 96:.4f}in"


def _color(value: Any) -> str | None:
    text = str(value)
    if text.startswith("#") and len(text) == 7:
        return text.lower()
    return _COLORS.get(text.lower())


def _number_style(name: str, num_format: str) -> str | None:
    """A number:*-style element for an Excel number format the tool uses (None for General)."""
    fmt = num_format.strip()
    if fmt == "@":
        return f'<number:text-style style:name="{name}"><number:text-content/></number:text-style>'
    decimals = len(m.group(1)) if (m := re.search(r"\.(0+)", fmt)) else 0
    if fmt.endswith("%") and re.fullmatch(r"[#,0]+(\.0+)?%", fmt):
        return (f'<number:percentage-style style:name="{name}"><number:number number:decimal-places="{decimals}" '
                f'number:min-decimal-places="{decimals}" number:min-integer-digits="1"/>'
                f'<number:text>%</number:text></number:percentage-style>')
    if re.fullmatch(r"[#,0]+(\.0+)?", fmt):
        grouping = ' number:grouping="true"' if "," in fmt else ""
        return (f'<number:number-style style:name="{name}"><number:number number:decimal-places="{decimals}" '
                f'number:min-decimal-places="{decimals}" number:min-integer-digits="1"{grouping}/></number:number-style>')
    if re.search(r"[ymdhs]", fmt.lower()):
        return _date_style(name, fmt)
    return None


def _date_style(name: str, fmt: str) -> str:
    parts, seen_hour = [], False
    for token in re.findall(r"yyyy|yy|mm|m|dd|d|hh|h|ss|s|[^ymdhs]+", fmt.lower()):
        if token in ("yyyy", "yy"):
            parts.append(f'<number:year number:style="{"long" if token == "yyyy" else "short"}"/>')
        elif token in ("mm", "m"):
            tag = "minutes" if seen_hour else "month"
            parts.append(f'<number:{tag} number:style="{"long" if token == "mm" else "short"}"/>')
        elif token in ("dd", "d"):
            parts.append(f'<number:day number:style="{"long" if token == "dd" else "short"}"/>')
        elif token in ("hh", "h"):
            seen_hour = True
            parts.append(f'<number:hours number:style="{"long" if token == "hh" else "short"}"/>')
        elif token in ("ss", "s"):
            parts.append(f'<number:seconds number:style="{"long" if token == "ss" else "short"}"/>')
        else:
            parts.append(f"<number:text>{escape(token)}</number:text>")
    tag = "date-style" if re.search(r"[yd]", fmt.lower()) or not seen_hour else "time-style"
    return f'<number:{tag} style:name="{name}">{"".join(parts)}</number:{tag}>'


def _cell_properties(props: dict[str, Any]) -> tuple[str, str, str]:
    """(table-cell, paragraph, text) properties of a format, as attribute text."""
    cell, para, text = [], [], []
    if (bg := props.get("bg_color") or props.get("fg_color")) and _color(bg):
        cell.append(f'fo:background-color="{_color(bg)}"')
    if props.get("text_wrap"):
        cell.append('fo:wrap-option="wrap"')
    if props.get("valign") in _VALIGN:
        cell.append(f'style:vertical-align="{_VALIGN[props["valign"]]}"')
    color = _color(props.get("border_color", "#000000")) or "#000000"
    if props.get("border") in _BORDERS:
        cell.append(f'fo:border="{_BORDERS[props["border"]]} {color}"')
    for side in ("top", "bottom", "left", "right"):
        if props.get(side) in _BORDERS:
            cell.append(f'fo:border-{side}="{_BORDERS[props[side]]} {color}"')
            if props[side] == 6:
                cell.append(f'style:border-line-width-{side}="0.5pt 0.5pt 0.5pt"')
    if props.get("align") in _ALIGN:
        cell.append('style:text-align-source="fix"')
        para.append(f'fo:text-align="{_ALIGN[props["align"]]}"')
    if props.get("indent"):
        para.append(f'fo:margin-left="{int(props["indent"]) * 0.125:.3f}in"')
    if props.get("font_name"):
        name = quoteattr(str(props["font_name"]))
        text += [f"style:font-name={name}", f"style:font-name-asian={name}", f"style:font-name-complex={name}"]
        # Traditional Chinese text: a substituting reader picks the TC forms of a CJK font, not the JP ones.
        text += ['style:language-asian="zh"', 'style:country-asian="TW"']
    if props.get("font_size"):
        size = f'{props["font_size"]}pt'
        text += [f'fo:font-size="{size}"', f'style:font-size-asian="{size}"', f'style:font-size-complex="{size}"']
    if props.get("bold"):
        text += ['fo:font-weight="bold"', 'style:font-weight-asian="bold"', 'style:font-weight-complex="bold"']
    if props.get("italic"):
        text += ['fo:font-style="italic"', 'style:font-style-asian="italic"', 'style:font-style-complex="italic"']
    if props.get("underline"):
        text += ['style:text-underline-style="solid"', 'style:text-underline-width="auto"',
                 'style:text-underline-color="font-color"']
    if props.get("font_color") and _color(props["font_color"]):
        text.append(f'fo:color="{_color(props["font_color"])}"')
    return " ".join(cell), " ".join(para), " ".join(text)


def cell_style_xml(fmt: Format, family_parent: str = "Default", data_style: str | None = None) -> str:
    """A ``style:style`` of family table-cell for ``fmt`` (with its number style first, if any)."""
    number = ""
    props = fmt.props
    if data_style is None and props.get("num_format") not in (None, "", "General", 0):
        data_style = f"N{fmt.style_name}"
        number = _number_style(data_style, str(props["num_format"])) or ""
        if not number:
            data_style = None
    cell, para, text = _cell_properties(props)
    inner = ""
    if cell:
        inner += f"<style:table-cell-properties {cell}/>"
    if para:
        inner += f"<style:paragraph-properties {para}/>"
    if text:
        inner += f"<style:text-properties {text}/>"
    ds = f' style:data-style-name="{data_style}"' if data_style else ""
    return (f'{number}<style:style style:name="{fmt.style_name}" style:family="table-cell" '
            f'style:parent-style-name="{family_parent}"{ds}>{inner}</style:style>')


def font_faces(formats: Sequence[Format]) -> str:
    """The font-face declarations every named font needs (CJK fonts get fallbacks after them)."""
    names = sorted({str(f.props["font_name"]) for f in formats if f.props.get("font_name")})
    faces = []
    for name in names:
        families = ", ".join(f"'{n}'" for n in dict.fromkeys([name, *CJK_FALLBACK]))
        faces.append(f'<style:font-face style:name={quoteattr(name)} svg:font-family={quoteattr(families)} '
                     f'style:font-family-generic="swiss" style:font-pitch="variable"/>')
    return "<office:font-face-decls>" + "".join(faces) + "</office:font-face-decls>"


def _header_footer(code: str, tag: str) -> str:
    """xlsxwriter's ``&L…&C…&R…`` header/footer text as an ODF style:header/style:footer."""
    if not code:
        return f'<style:{tag} style:display="false"/>'
    regions: dict[str, str] = {}
    current = "C"
    pieces = re.split(r'(&&|&[LCRPNFADTZ]|&"[^"]*"|&\d+|&[BIUSEXY])', code)
    for piece in pieces:
        if not piece:
            continue
        if piece in ("&L", "&C", "&R"):
            current = piece[1]
            continue
        field = {"&P": "<text:page-number>1</text:page-number>", "&N": "<text:page-count>1</text:page-count>",
                 "&F": '<text:file-name text:display="name-and-extension"/>', "&A": "<text:sheet-name/>",
                 "&D": "<text:date/>", "&T": "<text:time/>", "&&": "&amp;"}.get(piece)
        if field is None and piece.startswith("&"):
            continue  # font, size and emphasis codes
        regions[current] = regions.get(current, "") + (field if field is not None else escape(piece))
    body = "".join(f"<style:region-{side}><text:p>{regions.get(key, '')}</text:p></style:region-{side}>"
                   for key, side in (("L", "left"), ("C", "center"), ("R", "right")))
    return f"<style:{tag}>{body}</style:{tag}>"


def page_styles_xml(sheets: Sequence[Any], condition_styles: Sequence[Format], formats: Sequence[Format]) -> str:
    """styles.xml: the Default cell style, the conditional formats' styles, one page style per sheet."""
    layouts, masters = [], []
    for sheet in sheets:
        page = sheet.page
        short, long_ = _PAPER.get(page["paper"], _PAPER[9])
        width, height = (long_, short) if page["landscape"] else (short, long_)
        left, right, top, bottom = page["margins"] or (0.7, 0.7, 0.75, 0.75)
        scale = ""
        if page["fit"]:
            wide, tall = page["fit"]
            scale = (f' style:scale-to-X="{wide}"' if wide else "") + (f' style:scale-to-Y="{tall}"' if tall else "")
        layouts.append(
            f'<style:page-layout style:name="pl{sheet.index}"><style:page-layout-properties fo:page-width="{width}" '
            f'fo:page-height="{height}" style:print-orientation="{"landscape" if page["landscape"] else "portrait"}" '
            f'fo:margin-left="{left}in" fo:margin-right="{right}in" fo:margin-top="{top / 2:.3f}in" '
            f'fo:margin-bottom="{bottom / 2:.3f}in" style:print-page-order="ttb" style:first-page-number="continue" style:writing-mode="lr-tb"{scale}/>'
            f'<style:header-style><style:header-footer-properties fo:min-height="{top / 2:.3f}in" '
            f'fo:margin-bottom="0.1in"/></style:header-style><style:footer-style><style:header-footer-properties '
            f'fo:min-height="{bottom / 2:.3f}in" fo:margin-top="0.1in"/></style:footer-style></style:page-layout>')
        masters.append(f'<style:master-page style:name="pm{sheet.index}" style:page-layout-name="pl{sheet.index}">'
                       f'{_header_footer(page["header"], "header")}{_header_footer(page["footer"], "footer")}'
                       f"</style:master-page>")
    conditions = "".join(cell_style_xml(f) for f in condition_styles)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<office:document-styles {NS}>{font_faces([*formats, *condition_styles])}<office:styles>"
            '<style:style style:name="Default" style:family="table-cell"/>'
            f"{conditions}</office:styles><office:automatic-styles>{''.join(layouts)}</office:automatic-styles>"
            f"<office:master-styles>{''.join(masters)}</office:master-styles></office:document-styles>")


def _value(value: Any) -> str:
    if isinstance(value, str):
        return to_openformula(value, prefix=False) if value.startswith("=") else '"' + value.replace('"', '""') + '"'
    return str(value)


_OPS = {"between": None, "not between": None, "equal to": "=", "==": "=", "=": "=", "not equal to": "!=",
        "!=": "!=", "<>": "!=", "greater than": ">", ">": ">", "less than": "<", "<": "<",
        "greater than or equal to": ">=", ">=": ">=", "less than or equal to": "<=", "<=": "<="}


def _condition(options: dict[str, Any]) -> str | None:
    kind = options.get("validate", "any")
    if kind == "list":
        source = options.get("source", [])
        if isinstance(source, str):
            inner = to_openformula(source, prefix=False) if source.startswith("=") else _value(source)
        else:
            inner = ";".join('"' + str(v).replace('"', '""') + '"' for v in source)
        return f"of:cell-content-is-in-list({inner})"
    if kind == "custom":
        return "of:is-true-formula(" + to_openformula(str(options.get("value", options.get("criteria", ""))),
                                                       prefix=False) + ")"
    if kind in ("decimal", "integer"):
        test = "cell-content-is-decimal-number()" if kind == "decimal" else "cell-content-is-whole-number()"
        criteria = options.get("criteria", "between")
        if criteria in ("between", "not between"):
            name = "cell-content-is-between" if criteria == "between" else "cell-content-is-not-between"
            return f"of:{test} and {name}({_value(options.get('minimum', 0))},{_value(options.get('maximum', 0))})"
        op = _OPS.get(criteria, ">=")
        return f"of:{test} and cell-content(){op}{_value(options.get('value', 0))}"
    return None


def validation_xml(name: str, sheet: str, row: int, col: int, options: dict[str, Any]) -> str:
    """A ``table:content-validation`` for xlsxwriter ``data_validation`` options."""
    condition = _condition(options)
    attrs = f' table:condition={quoteattr(condition)}' if condition else ""
    if options.get("validate") == "list":
        attrs += f' table:display-list="{"unsorted" if options.get("dropdown", True) else "none"}"'
    allow = "true" if options.get("ignore_blank", True) else "false"
    base = quote_sheet(sheet) + "." + a1(row, col)
    help_title = f" table:title={quoteattr(str(options['input_title']))}" if options.get("input_title") else ""
    help_text = f"<text:p>{escape(str(options['input_message']))}</text:p>" if options.get("input_message") else ""
    kind = {"stop": "stop", "warning": "warning", "information": "information"}.get(options.get("error_type", "stop"), "stop")
    err_title = f" table:title={quoteattr(str(options['error_title']))}" if options.get("error_title") else ""
    err_text = f"<text:p>{escape(str(options['error_message']))}</text:p>" if options.get("error_message") else ""
    return (f'<table:content-validation table:name="{name}"{attrs} table:allow-empty-cell="{allow}" '
            f"table:base-cell-address={quoteattr(base)}>"
            f'<table:help-message{help_title} table:display="{"true" if options.get("show_input", True) else "false"}">'
            f"{help_text}</table:help-message>"
            f'<table:error-message{err_title} table:message-type="{kind}" '
            f'table:display="{"true" if options.get("show_error", True) else "false"}">{err_text}</table:error-message>'
            "</table:content-validation>")


def _item(name: str, kind: str, value: Any) -> str:
    return f'<config:config-item config:name="{name}" config:type="{kind}">{escape(str(value))}</config:config-item>'


def settings_xml(sheets: Sequence[Any], active: int) -> str:
    """settings.xml: frozen panes of each sheet and the sheet shown first."""
    tables = []
    for sheet in sheets:
        items = []
        if sheet.frozen:
            row, col = sheet.frozen
            items += [_item("HorizontalSplitMode", "short", 2 if col else 0), _item("VerticalSplitMode", "short", 2 if row else 0),
                      _item("HorizontalSplitPosition", "int", col), _item("VerticalSplitPosition", "int", row),
                      _item("ActiveSplitRange", "short", 2 if row else 3), _item("PositionLeft", "int", 0),
                      _item("PositionRight", "int", col), _item("PositionTop", "int", 0),
                      _item("PositionBottom", "int", row)]
        tables.append(f"<config:config-item-map-entry config:name={quoteattr(sheet.name)}>{''.join(items)}"
                      "</config:config-item-map-entry>")
    shown = next((s.name for s in sheets if s.index == active), sheets[0].name if sheets else "")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<office:document-settings {NS}><office:settings><config:config-item-set config:name="ooo:view-settings">'
            '<config:config-item-map-indexed config:name="Views"><config:config-item-map-entry>'
            f'{_item("ViewId", "string", "view1")}<config:config-item-map-named config:name="Tables">{"".join(tables)}'
            f'</config:config-item-map-named>{_item("ActiveTable", "string", shown)}'
            "</config:config-item-map-entry></config:config-item-map-indexed></config:config-item-set>"
            "</office:settings></office:document-settings>")


def meta_xml(properties: dict[str, str]) -> str:
    """meta.xml: title, comments, generator and creation time."""
    now = datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0).isoformat()
    title = f"<dc:title>{escape(properties['title'])}</dc:title>" if properties.get("title") else ""
    comments = f"<dc:description>{escape(properties['comments'])}</dc:description>" if properties.get("comments") else ""
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<office:document-meta {NS}><office:meta><meta:generator>gender-budget</meta:generator>{title}{comments}"
            f"<meta:creation-date>{now}</meta:creation-date></office:meta></office:document-meta>")


def manifest_xml() -> str:
    """META-INF/manifest.xml."""
    entries = "".join(f'<manifest:file-entry manifest:full-path="{p}" manifest:media-type="text/xml"/>'
                      for p in ("content.xml", "styles.xml", "meta.xml", "settings.xml"))
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.3">'
            f'<manifest:file-entry manifest:full-path="/" manifest:version="1.3" manifest:media-type="{MIMETYPE}"/>'
            f"{entries}</manifest:manifest>")
