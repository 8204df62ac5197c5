"""The flags the reader puts on lines (``LineItem.flags``): what it noticed about a row, one constant each."""

FLAG_HIDDEN_ROW = "hidden-row"                  # the row is hidden in the source sheet
FLAG_AMOUNT_UNREADABLE = "amount-unreadable"    # the amount cell is not money; amount is None
FLAG_AMOUNT_TEXT = "amount-text"                # the amount was text in a workbook ("1,234") and was converted
FLAG_FORMULA_NO_VALUE = "formula-no-value"      # the amount is a formula with no cached value; amount is None
FLAG_FORMULA_ZERO = "formula-cached-zero"       # the amount is a formula whose cached value is 0
FLAG_FORMULA = "formula"                        # the amount is a formula's cached value
FLAG_CODE_NUMBER = "code-stored-as-number"      # a code column held a number (leading zeros restored if known)
FLAG_CONTROL_CHARS = "control-chars"            # a cell held control characters (replaced by spaces in fields)
FLAG_TOTAL_LABEL = "total-label"                # kind total because a cell says 合計/小計/總計/共計/合共
FLAG_TOTAL_SUM_ABOVE = "total-sum-of-lines-above"  # kind total because its amount is the sum of the lines above
FLAG_TOTAL_SUM_BELOW = "total-sum-of-lines-below"  # kind total: a heading whose amount is the sum of the lines below
FLAG_TOTAL_MISMATCH = "total-mismatch"          # a labelled total that equals no sum of the lines it covers
FLAG_UNIT_FROM_TEXT = "unit-from-amount-text"   # the amount text named its own unit ("60千元")
