"""Reading budget exports (.xlsx/.xlsm, .xls, .ods, .csv) into line items: the pipeline's first stage."""

from .read import ReadResult, SheetInfo, SourceInfo, read_exports

__all__ = ["ReadResult", "SheetInfo", "SourceInfo", "read_exports"]
