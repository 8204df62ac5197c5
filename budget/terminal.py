"""What reaches a terminal: input text made safe to print, and the command-line parser's words in zh-TW."""

from __future__ import annotations

import re

#: C0 controls, DEL, C1 controls (ESC sequences, CSI 0x9B…) and the bidirectional overrides that can
#: make a line read differently from what it holds.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x20:
        return chr(0x2400 + code)  # ␀ … ␟ (ESC → ␛)
    if code == 0x7F:
        return "\u2421"  # ␡
    return f"<U+{code:04X}>"


def terminal_text(text: str) -> str:
    """``text`` with every control character shown as a visible symbol (ESC → ␛, newline → ␊).

    Terminal escape sequences in input text (colours, cursor moves, window titles, hyperlinks)
    are thereby printed as text and never acted on.
    """
    return _UNSAFE.sub(_visible, text) if _UNSAFE.search(text) else text


#: The command-line parser's words, zh-TW first with the English kept after it.
PARSER_WORDS = {
    "Usage: ": "用法 Usage: ",
    "Options": "選項 Options",
    "Arguments": "引數 Arguments",
    "Commands": "指令 Commands",
    "Show this message and exit.": "顯示本說明。 Show this message and exit.",
    "default: {default}": "預設 default: {default}",
    "required": "必填 required",
    "env var: {var}": "環境變數 env var: {var}",
    "Missing command.": "請指定指令。 Missing command.",
    "No such command {name!r}.": "沒有 {name!r} 這個指令。 No such command {name!r}.",
    "Aborted!": "已中止。 Aborted!",
}

#: The parser's usage-error messages (English, as it writes them) → zh-TW. First match wins.
_PARSER_ERRORS = [
    (r"Missing argument (.+?)\.", "缺少引數 {0}"),
    (r"Missing option (.+?)\.", "缺少選項 {0}"),
    (r"Missing parameter:? (.+?)\.?", "缺少參數 {0}"),
    (r"No such option: (\S+)(?: \(Possible options: (.+)\))?", "沒有 {0} 這個選項"),
    (r"No such command (.+?)\.", "沒有 {0} 這個指令"),
    (r"Missing command\.", "請指定指令"),
    (r"Got unexpected extra arguments? \((.+)\)", "多了引數：{0}"),
    (r"Option (.+?) requires an argument\.", "選項 {0} 需要一個值"),
    (r"Option (.+?) requires (\d+) arguments\.", "選項 {0} 需要 {1} 個值"),
    (r"Option (.+?) does not take a value\.", "選項 {0} 不接受值"),
    (r"Invalid value for (.+?): Input should be a valid integer.*", "{0} 必須是整數"),
    (r"Invalid value for (.+?): Input should be a valid (number|decimal).*", "{0} 必須是數字"),
    (r"Invalid value for (.+?): Input should be greater than or equal to (\S+)", "{0} 必須大於或等於 {1}"),
    (r"Invalid value for (.+?): Input should be less than or equal to (\S+)", "{0} 必須小於或等於 {1}"),
    (r"Invalid value for (.+?): (.+?) is not a valid integer\.?", "{0} 的值 {1} 不是整數"),
    (r"Invalid value for (.+?): (.+?) is not a valid float\.?", "{0} 的值 {1} 不是數字"),
    (r"Invalid value for (.+?): (.+?) is not in the range (.+?)\.", "{0} 的值 {1} 不在範圍 {2} 內"),
    (r"Invalid value for (.+?): (.+)", "{0} 的值無效：{1}"),
    (r"Invalid value: (.+)", "值無效：{0}"),
]


def parser_word(text: str) -> str:
    """The zh-TW (with English) form of one of the parser's words; anything else unchanged."""
    return PARSER_WORDS.get(text, text)


def parser_error(message: str) -> str:
    """A usage-error message in zh-TW with the parser's English after it."""
    for pattern, zh in _PARSER_ERRORS:
        found = re.fullmatch(pattern, message.strip(), flags=re.S)
        if found:
            return f"{zh.format(*found.groups())}。 ({message.strip()})"
    return message
