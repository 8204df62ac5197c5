"""What a spreadsheet can hold: the limits every reader and writer of the tool checks against, in one place."""

#: Rows of one .xlsx worksheet (and the default row limit when reading a sheet).
SHEET_ROWS = 1_048_576
#: Columns of one .xlsx worksheet (A … XFD).
SHEET_COLUMNS = 16_384
#: Characters one cell can hold in Excel; longer text is cut, and that is recorded as a problem.
CELL_CHARS = 32_767
