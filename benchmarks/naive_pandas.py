"""What a user would write instead of gender-budget: pandas, 25 keyword searches, openpyxl out.

The benchmark's yardstick for "how much faster than the obvious script" (issue 13). It reads the
export with ``pandas.read_excel`` (openpyxl, pandas' default for .xlsx), tags each line with the first
of 25 keyword patterns found in its 說明 (``Series.str.contains``, regular expressions), takes the
amount of tagged lines as the gender budget, and writes every row plus the tag columns with
``DataFrame.to_excel`` (openpyxl). No sub-items, exclusions, shared amounts, totals check or
explanation: it does less than ``classify``, which is the point of comparing with it.

    python benchmarks/naive_pandas.py EXPORT.xlsx OUT.xlsx [--header-row 4]
"""

from __future__ import annotations

import argparse
import sys

#: (category, pattern): the kind of keyword list an accounting office keeps for 性別預算.
KEYWORDS: tuple[tuple[str, str], ...] = (
    ("性別訓練", "性別主流化|性別意識|性別平等.*(?:訓練|課程|研習)"),
    ("性別影響評估", "性別影響評估"),
    ("性別統計", "性別統計|性別分析"),
    ("性平宣導", "性別平等.*宣導|性平宣導|CEDAW"),
    ("性平會議", "性別平等.*(?:委員|會議|小組)"),
    ("哺集乳室", "哺集乳|哺乳室|集乳"),
    ("托育", "托育|托嬰|幼兒園|課後照顧"),
    ("育嬰代理", "育嬰留職停薪|育嬰假.*代理|職務代理"),
    ("產假", "產假|陪產|產檢"),
    ("性騷擾防治", "性騷擾"),
    ("家暴防治", "家庭暴力|家暴"),
    ("性侵防治", "性侵害|性暴力"),
    ("婦女福利", "婦女|女性"),
    ("單親", "單親|新住民"),
    ("多元性別", "多元性別|同志|LGBT"),
    ("性別友善設施", "性別友善|親子廁所|無障礙.*廁所"),
    ("女性科技", "女性.*(?:科技|STEM|資訊人才)|女孩"),
    ("數位包容", "數位落差|數位包容|高齡.*數位"),
    ("長期照顧", "長期照顧|長照|照顧者"),
    ("親職", "親職|親子"),
    ("母嬰", "母嬰|孕婦|懷孕"),
    ("人身安全", "人身安全|防身"),
    ("性別教育", "性別平等教育|性教育"),
    ("性別預算", "性別預算|性別回應"),
    ("其他性別", "性別"),
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("export")
    parser.add_argument("output")
    parser.add_argument("--header-row", type=int, default=4, help="1-based row of the header (default 4)")
    parser.add_argument("--description", default="說明")
    parser.add_argument("--amount", default="預算數")
    args = parser.parse_args(argv)

    import pandas as pd

    df = pd.read_excel(args.export, header=args.header_row - 1, dtype={args.description: str}, engine="openpyxl")
    text = df[args.description].fillna("")
    category = pd.Series("", index=df.index, dtype=object)
    for name, pattern in KEYWORDS:
        hit = text.str.contains(pattern, regex=True) & (category == "")
        category[hit] = name
    amount = pd.to_numeric(df[args.amount], errors="coerce").fillna(0)
    df["性別預算類別"] = category
    df["判定"] = (category != "").map({True: "符合", False: "不符合"})
    df["性別預算數"] = amount.where(category != "", 0)
    df.to_excel(args.output, index=False, engine="openpyxl", sheet_name="明細")
    print(f"{len(df)} rows, {int((category != '').sum())} tagged, gender budget {df['性別預算數'].sum():,.0f}",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
