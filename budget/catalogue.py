"""Every problem code the tool raises, once: severity, what it means (zh-TW and English), the usual remedy.

A problem raised anywhere uses one of these codes; ``tests/test_problem_catalogue.py`` checks that every
code raised in ``budget/`` is listed here and that every entry is still raised somewhere. Add new codes
at their alphabetical place, one ``"code": Entry(...)`` line each. One fault, one code: an unknown unit
is ``unit-unknown`` wherever it is caught.
"""

from __future__ import annotations

from typing import NamedTuple

from .problems import ERROR, WARNING


class Entry(NamedTuple):
    """One code: how bad, what it means in zh-TW and in English, and the usual remedy."""

    severity: str
    message: str
    message_en: str
    hint: str = ""


#: code → entry. Messages here are templates ({placeholders}); the problem itself carries the specific words.
CATALOGUE: dict[str, Entry] = {
    "against-not-annotated": Entry(ERROR, '--against 需指定去年由 classify 產出的附註工作簿', "--against needs last year's annotated workbook", '請指定 classify 產出的 .性別預算.xlsx'),
    "amount-unreadable": Entry(ERROR, '金額「{value}」無法解讀為金額，未計入', 'the amount {value!r} cannot be read as money; not counted', '例如 1,234、(1,234)、△1,234'),
    "annotated-bad-amount": Entry(ERROR, '資料工作表的 {field}「{value}」無法解讀', 'unreadable amount in the data sheet', '請用 gender-budget classify 重新產出附註工作簿'),
    "annotated-bad-data": Entry(ERROR, '資料工作表的內容已損壞（表頭或記錄無法解讀）', 'the data sheet was damaged', '請用 gender-budget classify 重新產出附註工作簿'),
    "annotated-bad-status": Entry(ERROR, '資料工作表的判定「{status}」不認得', 'unknown status in the data sheet', '請用 gender-budget classify 重新產出附註工作簿'),
    "annotated-decision-edited": Entry(WARNING, '明細第 {row} 列的判定被直接修改，但覆核欄空白；修改未採用', 'the decision was edited in place but the review column is empty; the edit is not used', '請把決定寫在「覆核」欄'),
    "annotated-misaligned": Entry(ERROR, '明細的列對不上資料工作表（列被排序、刪除或修改過？）', "the detail sheet's rows no longer match the data sheet", '請勿排序或刪除明細的列；可用篩選'),
    "annotated-missing-sheet": Entry(ERROR, '不是附註工作簿：找不到「明細」與「資料」工作表', 'not an annotated workbook (no 明細 and 資料 sheets)', '請指定 gender-budget classify 產出的 .性別預算.xlsx'),
    "annotated-no-data": Entry(ERROR, '資料工作表是空的', 'the data sheet is empty', '請用 gender-budget classify 重新產出附註工作簿'),
    "annotated-no-review-column": Entry(ERROR, '明細工作表第 1 列找不到「覆核」欄', 'no review column on the detail sheet', '請勿刪除或改名「覆核」欄'),
    "annotated-review-without-line": Entry(WARNING, '此列有覆核但找不到對應的資料列，未採用', 'a review entry on a row with no line'),
    "big5-private-char": Entry(WARNING, '含 Big5 造字，無法轉成標準字，已以 U+FFFD 表示', 'a Big5 user-defined character (造字) with no standard code point; shown as U+FFFD', '請對照原始資料確認此字'),
    "code-stored-as-number": Entry(WARNING, '代碼欄存成數字（{digits} → {padded}），已補回開頭的 0', 'code stored as a number ({digits} -> {padded})', '匯出時請將代碼欄設為文字'),
    "control-character-replaced": Entry(WARNING, '文字含控制字元，已以可見符號（如 ␇）取代', 'control characters were replaced by visible symbols'),
    "control-chars": Entry(WARNING, '儲存格含控制字元（不可見字元），比對時以空白取代', 'a cell holds control characters; replaced by spaces for matching', '輸出前請確認原文'),
    "encoding-failed": Entry(ERROR, '以 {encoding} 解碼失敗（第 {line} 行）', 'cannot decode as {encoding} at line {line}', '--encoding utf-8 | cp950 | big5hkscs | utf-16'),
    "encoding-invalid": Entry(ERROR, '不認得編碼「{encoding}」', 'unknown encoding {encoding!r}', '常用的有 utf-8、cp950、big5hkscs、utf-16'),
    "encoding-unknown": Entry(ERROR, '無法判斷文字編碼；本工具可讀 UTF-8 與 Big5 (cp950)', 'cannot tell the text encoding', '請以 --encoding 指定，或另存為「CSV UTF-8」或 .xlsx'),
    "file-corrupt": Entry(ERROR, '檔案已損毀或不完整，無法讀取', 'the file is damaged or incomplete', '請重新匯出或另存新檔再試'),
    "file-empty": Entry(ERROR, '檔案是空的（0 位元組）', 'the file is empty (0 bytes)', '請重新匯出'),
    "file-encrypted": Entry(ERROR, '活頁簿有密碼保護，無法讀取', 'the workbook is password-protected', '請在 Excel 移除密碼後重新存檔再試'),
    "file-extension-mismatch": Entry(ERROR, '副檔名是 {ext}，但內容其實是 {actual}', 'the file is named {ext} but is really {actual}', '請更正副檔名，或另存為 .xlsx'),
    "file-is-directory": Entry(ERROR, '這是資料夾，不是檔案', 'this is a directory, not a file', '請指定資料夾內的預算匯出檔'),
    "file-is-html": Entry(ERROR, '這是網頁（HTML）存成試算表的副檔名，不是真正的活頁簿', 'a web page (HTML) saved with a spreadsheet extension', '請用 Excel 開啟後另存為 .xlsx'),
    "file-is-text": Entry(ERROR, '副檔名是 {ext}，但內容是純文字（可能是 CSV）', 'named {ext} but the content is plain text', '若是 CSV，請將副檔名改為 .csv'),
    "file-is-xlsb": Entry(ERROR, '這是 Excel 二進位活頁簿 (.xlsb)', 'an Excel binary workbook (.xlsb)', '請用 Excel 另存為 .xlsx'),
    "file-is-xml-spreadsheet": Entry(ERROR, '這是「XML 試算表 2003」格式', 'an XML Spreadsheet 2003 file', '請用 Excel 另存為 .xlsx'),
    "file-not-found": Entry(ERROR, '找不到檔案', 'file not found', '請確認路徑與檔名'),
    "file-not-spreadsheet": Entry(ERROR, '這不是試算表（{what}）', 'not a spreadsheet ({what})', '請匯出為 .xlsx、.ods、.xls 或 .csv'),
    "file-too-complex": Entry(ERROR, '檔案過大或過於複雜，無法安全讀取（{how}）', 'the file is too large or too complex to read safely ({how})', '請刪除多餘的列與欄、分成數個檔案，或另存新檔'),
    "file-too-large": Entry(ERROR, '檔案解壓後過大，或疑似壓縮炸彈', 'the file is too large uncompressed (or a zip bomb)', '請分成數個檔案'),
    "file-unreadable": Entry(ERROR, '無法開啟檔案（{reason}）', 'cannot open the file ({reason})', '請確認權限或檔案是否被其他程式鎖定'),
    "file-unsafe-xml": Entry(ERROR, '檔案內的 XML 含 DTD／實體宣告或異常開頭，未處理', 'an XML part declares a DTD or entities; not processed', '請用 Excel 開啟後另存新檔'),
    "formula-cached-zero": Entry(WARNING, '金額是公式，存的計算結果為 0', 'the amount is a formula whose cached value is 0', '請確認實際金額'),
    "formula-no-value": Entry(ERROR, '金額是公式但檔案中沒有計算結果，未計入', 'the amount is a formula without a cached value; not counted', '請用 Excel 開啟、重新計算並存檔'),
    "formula-no-value-total": Entry(WARNING, '小計列的金額是公式但沒有計算結果，無法核對小計', "a total row's formula has no cached value"),
    "header-ambiguous": Entry(WARNING, '{field}欄有多個候選，已使用第一個', 'several columns could be {field}; used the first', '--map 欄位=表頭'),
    "header-missing-column": Entry(ERROR, '表頭缺少{fields}欄', 'the header has no {fields} column', '--map 欄位=表頭，例如 --map description=摘要'),
    "header-not-found": Entry(ERROR, '前 30 列找不到可辨識的表頭', 'no recognisable header row in the first 30 rows', '--map 欄位=表頭，例如 --map description=摘要'),
    "header-renamed": Entry(WARNING, '原始欄名與附註欄同名，於明細中加上「原：」', 'original headers that clash with added columns are shown as 原：<name>'),
    "input-changed": Entry(ERROR, '輸入檔在執行期間被修改，結果可能不一致', 'an input file changed during the run', '請在檔案不再變動時重新執行'),
    "internal-error": Entry(ERROR, '內部錯誤：{error}；未寫出任何檔案', 'internal error; nothing was written', '請加 -v 重試並回報'),
    "map-field-unknown": Entry(ERROR, '「{fields}」不是可對應的欄位', 'unknown field(s) {fields}', '--map 欄位=表頭，例如 --map description=摘要'),
    "map-header-unused": Entry(WARNING, '指定的對應 {field}={title} 在表頭中找不到，未使用', 'mapping {field}={title} matched no header'),
    "no-data": Entry(ERROR, '表頭下方沒有任何資料列', 'no data rows below the header', '請確認匯出的範圍'),
    "no-data-sheet": Entry(ERROR, '檔案中沒有可讀取的工作表', 'no visible sheet with data', '--sheet 工作表名稱'),
    "number-as-text": Entry(WARNING, '數值超過 15 位有效數字，以文字寫入以免失真', 'a number with more than 15 significant digits was written as text'),
    "output-bad-suffix": Entry(ERROR, '輸出檔名必須以 {suffixes} 結尾', 'the output must be a {suffixes} file', '例如 -o 性別預算.xlsx'),
    "output-folder-missing": Entry(ERROR, '輸出資料夾不存在', 'the output folder does not exist'),
    "output-folder-not-writable": Entry(ERROR, '無法在輸出資料夾建立檔案', 'cannot create files in the output folder'),
    "output-has-reviews": Entry(ERROR, '輸出檔已有覆核，不會覆寫', "the output already holds reviewers' entries; it was not overwritten", '請以 -o 指定新檔名，並加 --reviewed 沿用覆核'),
    "output-is-directory": Entry(ERROR, '輸出路徑是資料夾', 'the output path is a folder', '請以 -o 指定檔名'),
    "output-is-input": Entry(ERROR, '輸出檔就是輸入檔（或其連結），不會覆寫', 'the output is an input file (or a link to it)', '請以 -o 指定另一個輸出檔名'),
    "output-is-reviewed": Entry(ERROR, '輸出檔就是 --reviewed 的附註工作簿，不會覆寫', 'the output is the reviewed workbook; it is never overwritten', '請以 -o 指定另一個輸出檔名'),
    "output-open": Entry(ERROR, '輸出檔似乎正在 Excel 或 LibreOffice 中開啟（旁邊有鎖定檔）', 'the output seems to be open in Excel or LibreOffice (its lock file exists)', '請先關閉該活頁簿；若已關閉，可刪除鎖定檔'),
    "output-readonly": Entry(ERROR, '輸出檔為唯讀，不會覆寫', 'the output file is read-only; it was not replaced', '請改用其他輸出檔名，或先取消唯讀'),
    "output-verify-failed": Entry(ERROR, '寫出的活頁簿不完整或無法開啟', 'the workbook just written is incomplete', '請重試；若一再發生請回報'),
    "output-write-failed": Entry(ERROR, '無法寫出輸出檔（{reason}）；原有檔案未變更', 'could not write the output ({reason}); any previous file is unchanged', '磁碟已滿時請先釋出空間；檔案在 Excel 中開啟時請先關閉'),
    "reader-unavailable": Entry(ERROR, '試算表讀取元件 (python-calamine) 無法載入', 'the spreadsheet reader cannot start', '請重新安裝本工具'),
    "report-duplicate-year": Entry(ERROR, '兩個輸入都是 {year} 年度', 'two inputs claim the same year', '年度判斷錯誤時以 --year 指定（依輸入順序）'),
    "report-no-year": Entry(ERROR, '找不到年度（年度欄或標題列），無法編入報告', 'no year found in the data', '請以 --year 指定民國年度，例如 --year 116'),
    "report-several-years": Entry(ERROR, '同一個輸入含多個年度', 'one input holds several years', '每個年度請分開成一個檔案，或以 --year 指定'),
    "report-unknown-category": Entry(WARNING, '類別代碼「{category}」不在規則檔中，以工作簿所載名稱與分類列入', 'category not in the rules file'),
    "review-amount-negative": Entry(ERROR, '覆核的金額不可為負數', 'the reviewed amount must not be negative'),
    "review-amount-too-large": Entry(ERROR, '覆核金額大於本行金額', "the reviewed amount is larger than the line's amount"),
    "review-carried": Entry(WARNING, '沿用了 {carried} 筆覆核決定', '{carried} reviewed decisions carried over'),
    "review-carried-amount-changed": Entry(WARNING, '沿用覆核決定，但金額已變動', 'a reviewed decision was carried over but the amount changed', '請確認覆核仍適用'),
    "review-malformed": Entry(ERROR, '看不懂覆核「{text}」', 'the review entry {text!r} cannot be read', '格式：類別代碼、none、「類別代碼 40%」或「類別代碼 24000」'),
    "review-no-amount": Entry(ERROR, '本行金額空白或無法讀取，無法依覆核計算性別預算數', 'the line has no readable amount'),
    "review-not-placed": Entry(WARNING, '覆核決定找不到今年相同的項目，未沿用', 'a reviewed decision has no matching line this year'),
    "review-on-total-row": Entry(ERROR, '合計/小計列不計入，覆核未採用', 'subtotal rows are never counted; the review was not applied'),
    "review-share-out-of-range": Entry(ERROR, '覆核的比例不在 0 到 100 之間', 'the share must be between 0 and 100 %'),
    "review-unknown-category": Entry(ERROR, '覆核的類別代碼「{category}」不在規則檔中', 'unknown category id in the review column', 'gender-budget rules show 列出可用的類別代碼'),
    "reviewed-not-annotated": Entry(ERROR, '--reviewed 需指定由 classify 產出的附註工作簿', '--reviewed needs an annotated workbook written by classify'),
    "rules-bad-example": Entry(ERROR, '範例預期的類別「{category}」不存在', 'example expects an unknown category', '可用類別代碼或 none'),
    "rules-bad-regex": Entry(ERROR, '正規表示式無效或不支援（僅支援 RE2 語法）', 'invalid or unsupported regular expression (RE2 syntax)', '不支援回溯參照與環視'),
    "rules-duplicate-id": Entry(ERROR, '類別代碼「{id}」重複', 'duplicate category id'),
    "rules-encoding": Entry(ERROR, '規則檔必須是 UTF-8 編碼', 'rules file must be UTF-8'),
    "rules-invalid": Entry(ERROR, '規則檔的值不符規定', 'a value in the rules file is invalid'),
    "rules-no-condition": Entry(ERROR, '類別沒有任何辨識條件', 'category has no condition', 'any、all、regex、codes 或欄位條件'),
    "rules-not-found": Entry(ERROR, '找不到規則檔', 'rules file not found'),
    "rules-schema": Entry(ERROR, '不支援的 schema 版本', 'unsupported schema version'),
    "rules-syntax": Entry(ERROR, 'TOML 語法錯誤', 'TOML syntax error', '正規表示式請用單引號字串 \'…\'，代碼請加引號 "2036"'),
    "rules-too-deep": Entry(ERROR, '規則檔的陣列或表格巢狀太深', 'arrays or tables in the rules file are nested too deep', '規則檔不需要巢狀超過數層'),
    "rules-too-large": Entry(ERROR, '規則檔超過 1 MiB', 'rules file is larger than 1 MiB'),
    "sheet-empty": Entry(WARNING, '工作表是空白的，已略過', 'empty sheet skipped'),
    "sheet-hidden": Entry(WARNING, '隱藏的工作表，已略過', 'hidden sheet skipped', '--sheet 工作表名稱'),
    "sheet-ignored": Entry(WARNING, 'CSV 檔沒有工作表，--sheet 不適用', 'a CSV file has no sheets; --sheet ignored'),
    "sheet-no-data": Entry(WARNING, '工作表有表頭，但下方沒有任何資料列', 'a header but no data rows'),
    "sheet-no-header": Entry(WARNING, '工作表沒有可辨識的表頭，已略過', 'no recognisable header; sheet skipped'),
    "sheet-not-found": Entry(ERROR, '找不到工作表「{sheet}」', 'no sheet named {sheet!r}', '請用 --sheet 指定正確的工作表名稱'),
    "sheet-not-worksheet": Entry(WARNING, '圖表或巨集工作表，已略過', 'chart or macro sheet skipped'),
    "text-too-long": Entry(ERROR, '文字超過儲存格上限 32,767 字，活頁簿中只保留開頭', 'text longer than a cell holds (32,767)', '完整內容請見原始檔'),
    "too-many-rows": Entry(ERROR, '超過上限 {limit} 列', 'more than the limit of {limit} rows', '請分成數個檔案，或以 --max-rows 提高上限'),
    "total-amount-unreadable": Entry(WARNING, '小計列的金額無法解讀，無法核對小計', "a total row's amount is not readable"),
    "total-mismatch": Entry(WARNING, '合計與明細加總不符', 'a total does not equal the sum of its lines'),
    "unit-conflict": Entry(WARNING, '金額欄表頭與標題列的單位不同，已採用表頭的單位', "the amount header and a title row name different units; used the header's"),
    "unit-unknown": Entry(ERROR, '不認得的金額單位「{unit}」', 'unknown unit {unit!r}', '可用：元、千元、萬元'),
    "usage": Entry(ERROR, '指令用法錯誤', 'bad usage', 'gender-budget COMMAND --help'),
}
