"""The files the tool writes (annotated workbook, report workbook) and reading its own annotated workbook back."""
