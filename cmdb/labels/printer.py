"""Sending ZPL to a Zebra printer's raw TCP port (9100)."""

from __future__ import annotations

import socket
import urllib.parse

from cmdb.errors import CMDBError, InvalidInput
from cmdb.i18n import _


class PrinterUnavailable(CMDBError):
    code = "printer_unavailable"


def parse_printer_url(url: str) -> tuple[str, int]:
    parsed = urllib.parse.urlsplit(url.strip())
    try:
        port = parsed.port or 9100
    except ValueError:
        port = -1
    if parsed.scheme != "tcp" or not parsed.hostname or not 0 < port < 65536 or \
            parsed.path not in ("", "/") or parsed.query or parsed.username:
        raise InvalidInput(_("Printer address %(url)r is not of the form tcp://HOST:PORT "
                             "(for example tcp://192.0.2.10:9100)", url=url), field="print", value=url)
    return parsed.hostname, port


def send_zpl(url: str, data: bytes, timeout: float = 10.0) -> int:
    """Send ``data`` and return the number of bytes sent; PrinterUnavailable on failure."""
    host, port = parse_printer_url(url)
    where = f"{host}:{port}"
    try:
        with socket.create_connection((host, port), timeout=timeout) as connection:
            connection.sendall(data)
            connection.shutdown(socket.SHUT_WR)
    except ConnectionRefusedError:
        raise PrinterUnavailable(_("The printer at %(printer)s refused the connection: is it "
                                   "switched on, and is its raw port open?", printer=where), {"printer": where}) from None
    except socket.gaierror as exc:
        raise PrinterUnavailable(_("Cannot find the printer host %(host)r: %(reason)s", host=host,
                                   reason=exc.strerror),
                                 {"printer": where}) from None
    except (TimeoutError, socket.timeout):
        raise PrinterUnavailable(_("The printer at %(printer)s did not answer within %(seconds)s s",
                                   printer=where, seconds=f"{timeout:g}"),
                                 {"printer": where}) from None
    except OSError as exc:
        raise PrinterUnavailable(_("Sending to the printer at %(printer)s failed: %(reason)s",
                                   printer=where, reason=exc.strerror or exc), {"printer": where}) from None
    return len(data)
