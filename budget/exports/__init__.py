"""Reading budget exports (.xlsx/.xlsm, .xls, .ods, .csv) into line items: the pipeline's first stage."""

from .files import sha256_of
from .read import ReadResult, SheetInfo, SourceInfo, read_exports

__all__ = ["ReadResult", "SheetInfo", "SourceInfo", "read_exports", "sha256_of"]
