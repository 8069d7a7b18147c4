"""QR asset labels: PNG, PDF sheets for label stock, and ZPL for Zebra printers."""

from cmdb.labels.content import LabelContent, scan_url
from cmdb.labels.fonts import choose_font
from cmdb.labels.printer import PrinterUnavailable, send_zpl
from cmdb.labels.render import render_pdf, render_png
from cmdb.labels.templates import SheetTemplate, builtin_template_names, load_template
from cmdb.labels.zpl import render_zpl

__all__ = ["LabelContent", "PrinterUnavailable", "SheetTemplate", "builtin_template_names",
           "choose_font", "load_template", "render_pdf", "render_png", "render_zpl",
           "scan_url", "send_zpl"]
