"""Presets that read other tools' own CSV exports: ``--mapping snipeit`` and ``--mapping netbox``.

Snipe-IT's asset export and its import sheet are one sheet per file with its own headings,
status labels and categories; a column mapping is enough, plus one derived column: a
warranty given in months from the purchase date becomes ``Warranty Expires``. NetBox's bulk-import CSVs (sites, locations, racks, devices,
virtual machines) name related objects by name and have no asset tags, so the preset
turns them into the CMDB's own columns with keys derived from NetBox's unique names:

* site: its name (unique in NetBox); its region becomes a Location ``region:<name>``;
* location: ``<site>:<name>``, inside its parent location or its site;
* rack: ``<site>:<rack>`` ("Comms closet" exists at many sites), inside its location or site;
* device: its asset tag, else its name, else ``<site>:<rack>:U<position>``; a name that
  repeats in the file (``PP:MDF`` at three sites) becomes ``<name>@<site>``;
* virtual machine: its name (``<name>@<cluster>`` when repeated), category
  virtual_machine, inside a Location ``cluster:<cluster>`` (type area) so that the
  impact of losing a cluster reaches its VMs;
* platform (``Cisco IOS``, ``Ubuntu Linux 20.04``): a SoftwareImage with that name as key,
  linked with RUNS_IMAGE.

Row numbers stay those of the original files.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from cmdb.errors import InvalidInput
from cmdb.i18n import _
from cmdb.settings import get_settings
from importers.headings import norm
from importers.mapping import Mapping, mapping_from_dict, mapping_too_large, parse_mapping
from importers.readers import RawSheet
from importers.values import add_months, parse_date, parse_months

SNIPEIT = {
    "columns": {
        "Asset Tag": "key", "Asset Name": "name", "Item Name": "name", "Name": "name",
        "Serial": "serial", "Serial Number": "serial", "Model": "model", "Model Name": "model",
        "Model No.": "model_number", "Model Number": "model_number", "Category": "category",
        "Manufacturer": "vendor", "Status": "status", "Status Label": "status",
        "Location": "location", "Default Location": None, "Purchase Date": "purchase_date",
        "Warranty Expires": "warranty_end", "Warranty": None, "Warranty Months": None,
        "Notes": "notes", "Asset Notes": "notes", "Department": "department",
        "Checked Out To": "owner", "Full Name": "owner", "Username": "owner", "Email": None,
        "Company": "company", "Supplier": "supplier", "Order Number": "order_number",
        "Purchase Cost": "purchase_cost", "Asset EOL Date": "end_of_life", "EOL": None,
        "ID": None, "Created At": None, "Updated At": None, "Last Audit": None,
        "Next Audit Date": None, "Checkout Date": None, "Last Checkin": None,
        "Expected Checkin": None, "Requestable": None, "Image": None,
    },
    "values": {
        # Snipe-IT's default labels and the ones its status types usually carry.
        "status": {"Ready to Deploy": "in_stock", "Deployed": "in_use", "Pending": "in_repair",
                   "Undeployable": "in_repair", "Archived": "retired", "Lost/Stolen": "missing",
                   "Lost": "missing", "Stolen": "missing", "Out for Repair": "in_repair",
                   "Out for Diagnostics": "in_repair", "Broken": "in_repair",
                   "Broken - Not Fixable": "disposed"},
        "category": {"Laptops": "laptop", "Laptop": "laptop", "Notebooks": "laptop",
                     "Desktops": "pc", "Desktop": "pc", "Workstations": "pc", "Servers": "server",
                     "Server": "server", "Virtual Machines": "virtual_machine",
                     "Mobile Phones": "phone", "Cell Phones": "phone", "Smartphones": "phone",
                     "VOIP Phones": "phone", "Conference Phones": "phone", "Phones": "phone",
                     "Tablets": "tablet", "Displays": "monitor", "Monitors": "monitor",
                     "Printers": "printer", "Switches": "switch", "Networking": "switch",
                     "Network Switches": "switch", "Routers": "router", "Firewalls": "firewall",
                     "Storage": "storage", "Access Points": "access_point",
                     "Wireless Access Points": "access_point", "UPS": "ups", "PDUs": "pdu",
                     "Cameras": "camera", "Security Cameras": "camera", "Scanners": "scanner",
                     "Thin Clients": "thin_client", "Misc Software": "other", "Accessories": "other"},
    },
    "create_locations": True,
    "dayfirst": False,
}
# Headings that give the warranty as a number of months from the purchase date.
SNIPEIT_WARRANTY_MONTHS = ("Warranty Months", "Warranty")
SNIPEIT_WARRANTY_END = "Warranty Expires"
SNIPEIT_PURCHASE_DATE = "Purchase Date"

NETBOX_STATUS = {"active": "in_use", "planned": "planned", "staged": "in_stock",
                 "failed": "in_repair", "inventory": "in_stock", "offline": "in_stock",
                 "decommissioning": "retired"}

HEADER = {
    "Location": ["key", "name", "type", "description", "notes", "location"],
    "Hardware": ["key", "name", "category", "status", "vendor", "model", "serial", "department",
                 "description", "notes", "cpu_cores", "ram_gb", "disk_gb", "location", "image"],
    "SoftwareImage": ["key", "name", "os"],
}


PRESETS = ("snipeit", "netbox")


def load_mapping(spec: str | None) -> Mapping:
    """``None``, a preset name (``snipeit``, ``netbox``) or a YAML/JSON mapping file."""
    if spec is None:
        return Mapping()
    if spec.lower() in PRESETS:
        return mapping_for(spec.lower())
    path = Path(spec)
    if not path.is_file():
        raise InvalidInput(_("Mapping %(spec)r is neither a file nor a preset; presets: %(presets)s",
                             spec=spec, presets=", ".join(PRESETS)), field="mapping", value=spec, allowed=list(PRESETS))
    limit = get_settings().max_mapping_bytes
    if path.stat().st_size > limit:
        raise mapping_too_large(path.name, path.stat().st_size, limit)
    return parse_mapping(path.read_bytes(), path.name, limit)


def mapping_for(name: str) -> Mapping:
    if name == "snipeit":
        m = mapping_from_dict(SNIPEIT, source="snipeit preset")
        m.kind = "Hardware"
    else:
        m = Mapping(kind=None)
    m.preset = name
    m.new_categories = True  # a migration brings the user's own categories
    return m


def apply(mapping: Mapping, sheets: list[RawSheet], *, dayfirst: bool = False) -> list[RawSheet]:
    if mapping.preset == "netbox":
        return netbox_sheets(sheets)
    if mapping.preset == "snipeit":
        return [snipeit_warranty_end(s, dayfirst=dayfirst) for s in sheets]
    return sheets


# ---------------------------------------------------------------------------------------
# Snipe-IT


def snipeit_warranty_end(sheet: RawSheet, *, dayfirst: bool) -> RawSheet:
    """Fill ``Warranty Expires`` from ``Purchase Date`` + ``Warranty Months`` where the
    row has no expiry of its own. A months value that is not a number, or one without a
    purchase date, becomes text the date check refuses, naming both cells."""
    header_index = next((i for i, r in enumerate(sheet.rows) if any(c.strip() for c in r)), None)
    if header_index is None:
        return sheet
    headings = [norm(c) for c in sheet.rows[header_index]]

    def column(*names: str) -> int | None:
        return next((headings.index(norm(n)) for n in names if norm(n) in headings), None)
    months_col = column(*SNIPEIT_WARRANTY_MONTHS)
    if months_col is None:
        return sheet
    purchase_col = column(SNIPEIT_PURCHASE_DATE)
    end_col = column(SNIPEIT_WARRANTY_END)
    rows = [list(r) for r in sheet.rows]
    if end_col is None:
        end_col = max(len(rows[header_index]), months_col + 1)
        rows[header_index] += [""] * (end_col - len(rows[header_index])) + [SNIPEIT_WARRANTY_END]
    for i in range(header_index + 1, len(rows)):
        row = rows[i]

        def cell(j: int | None) -> str:
            return row[j].strip() if j is not None and j < len(row) else ""
        months_text = cell(months_col)
        if not months_text or cell(end_col):
            continue
        purchase_text = cell(purchase_col)
        end = _warranty_end(purchase_text, months_text, dayfirst)
        row += [""] * (end_col + 1 - len(row))
        row[end_col] = end
    return RawSheet(sheet.name, rows, kind=sheet.kind)


def _warranty_end(purchase_text: str, months_text: str, dayfirst: bool) -> str:
    months = parse_months(months_text)
    if months is None:
        return _("warranty of %(months)r, not a number of months", months=months_text)
    if not purchase_text:
        return _("warranty of %(months)s months, without a purchase date to count from",
                 months=months)
    purchase = parse_date(purchase_text, dayfirst=dayfirst)
    try:
        start = dt.date.fromisoformat(purchase)
    except ValueError:
        return _("warranty of %(months)s months from %(purchase)r, which is not a date",
                 months=months, purchase=purchase_text)
    return add_months(start, months).isoformat()


# ---------------------------------------------------------------------------------------
# NetBox


def _records(sheet: RawSheet) -> tuple[int, list[tuple[int, dict[str, str]]]]:
    """(header index, [(row index, {field: text})]) with NetBox's field names as keys."""
    header_index = next((i for i, r in enumerate(sheet.rows) if any(c.strip() for c in r)), None)
    if header_index is None:
        return 0, []
    names = [c.strip().lower() for c in sheet.rows[header_index]]
    out = []
    for i in range(header_index + 1, len(sheet.rows)):
        row = sheet.rows[i]
        out.append((i, {n: (row[j].strip() if j < len(row) else "") for j, n in enumerate(names)}))
    return header_index, out


def _netbox_kind(sheet: RawSheet, fields: set[str]) -> str | None:
    stem = norm(Path(sheet.name).stem)
    for kind in ("virtualmachines", "devices", "racks", "locations", "sites"):
        if stem.startswith(kind) or stem.startswith(kind.rstrip("s")):
            return kind
    if {"cluster", "vcpus"} & fields:
        return "virtualmachines"
    if {"device_type", "role"} <= fields or "device_type" in fields:
        return "devices"
    if "u_height" in fields:
        return "racks"
    if {"site", "parent", "slug"} <= fields:
        return "locations"
    if {"slug", "region"} & fields and "site" not in fields:
        return "sites"
    return None


def _u(position: str) -> str:
    try:
        value = float(position)
    except ValueError:
        return position
    return str(int(value)) if value.is_integer() else str(value)


def _category(role: str) -> str:
    r = role.lower()
    for word, category in (("switch", "switch"), ("router", "router"), ("firewall", "firewall"),
                           ("pdu", "pdu"), ("ups", "ups"), ("storage", "storage"),
                           ("server", "server"), ("access point", "access_point"),
                           ("camera", "camera"), ("printer", "printer")):
        if word in r:
            return category
    return role.strip() or "other"  # NetBox's own role becomes a category of the register


def netbox_sheets(sheets: list[RawSheet]) -> list[RawSheet]:
    parsed = []
    for sheet in sheets:
        header_index, records = _records(sheet)
        fields = set(records[0][1]) if records else set()
        parsed.append((sheet, _netbox_kind(sheet, fields), header_index, records))
    out: list[RawSheet] = []
    extra_locations: dict[str, list[str]] = {}
    images: dict[str, list[str]] = {}

    def site_key(site: str) -> str:
        return site

    def add_image(platform: str) -> str:
        if platform and platform not in images:
            images[platform] = [platform, platform, platform]
        return platform

    # Names that repeat in the devices / VM files get a suffix; count them first.
    repeats: dict[str, int] = {}
    for sheet, kind, _, records in parsed:
        if kind in ("devices", "virtualmachines"):
            for _, r in records:
                if r.get("name"):
                    repeats[r["name"]] = repeats.get(r["name"], 0) + 1

    for sheet, kind, header_index, records in parsed:
        if kind is None:
            out.append(sheet)
            continue
        target = "Hardware" if kind in ("devices", "virtualmachines") else "Location"
        # NetBox's custom fields (cf_<name>) keep their name: custom fields of the register.
        custom = sorted({n for _, r in records for n in r if n.startswith("cf_") and len(n) > 3})
        header = HEADER[target] + [n[3:] for n in custom]
        rows: list[list[str]] = [[] for _ in range(header_index)] + [list(header)]
        for index, r in records:
            while len(rows) < index:
                rows.append([])
            if not any(r.values()):
                rows.append([""] * len(header))
                continue
            v = {h: "" for h in header}
            v.update({n[3:]: r.get(n, "") for n in custom})
            site = r.get("site", "")
            if kind == "sites":
                v.update(key=r.get("name", ""), name=r.get("name", ""), type="site",
                         description=r.get("description", ""),
                         notes=" ".join(p for p in (f"facility {r['facility']}" if r.get("facility") else "",
                                                    f"tenant {r['tenant']}" if r.get("tenant") else "") if p))
                if r.get("region"):
                    region_key = f"region:{r['region']}"
                    extra_locations.setdefault(region_key, [region_key, r["region"], "region", "", "", ""])
                    v["location"] = region_key
            elif kind == "locations":
                v.update(key=f"{site}:{r.get('name', '')}", name=r.get("name", ""), type="area",
                         description=r.get("description", ""),
                         location=f"{site}:{r['parent']}" if r.get("parent") else site_key(site))
            elif kind == "racks":
                v.update(key=f"{site}:{r.get('name', '')}", name=r.get("name", ""), type="rack",
                         description=" ".join(p for p in (r.get("type", ""),
                                                          f"{r['u_height']}U" if r.get("u_height") else "") if p),
                         location=f"{site}:{r['location']}" if r.get("location") else site_key(site))
            elif kind == "devices":
                name = r.get("name", "")
                rack = r.get("rack", "")
                if r.get("asset_tag"):
                    key = r["asset_tag"]
                elif name and repeats.get(name, 0) > 1:
                    key = f"{name}@{site}"
                elif name:
                    key = name
                elif rack and r.get("position"):
                    key = f"{site}:{rack}:U{_u(r['position'])}"
                else:
                    key = f"{site}:{r.get('role', 'device')}:row{index + 1}"
                place = (f"{site}:{rack}" if rack else f"{site}:{r['location']}" if r.get("location")
                         else site_key(site))
                position = (f"U{_u(r['position'])} {r.get('face', '')}".strip()
                            if r.get("position") else "")
                v.update(key=key, name=name or f"{r.get('role', '')} {r.get('device_type', '')}".strip(),
                         category=_category(r.get("role", "")),
                         status=NETBOX_STATUS.get(r.get("status", "").lower(), r.get("status", "")),
                         vendor=r.get("manufacturer", ""), model=r.get("device_type", ""),
                         serial=r.get("serial", ""), department=r.get("tenant", ""),
                         description=r.get("role", ""), notes=position, location=place,
                         image=add_image(r.get("platform", "")))
            else:  # virtual machines
                name = r.get("name", "")
                cluster = r.get("cluster", "")
                key = f"{name}@{cluster}" if repeats.get(name, 0) > 1 and cluster else name
                place = ""
                if cluster:
                    place = f"cluster:{cluster}"
                    extra_locations.setdefault(place, [place, cluster, "area", "NetBox cluster", "",
                                                       site_key(site) if site else ""])
                elif site:
                    place = site_key(site)
                v.update(key=key, name=name, category="virtual_machine",
                         status=NETBOX_STATUS.get(r.get("status", "").lower(), r.get("status", "")),
                         department=r.get("tenant", ""), description=r.get("role", ""),
                         cpu_cores=r.get("vcpus", ""),
                         ram_gb=f"{r['memory']} MB" if r.get("memory") else "",
                         disk_gb=f"{r['disk']} GB" if r.get("disk") else "",
                         location=place, image=add_image(r.get("platform", "")))
            rows.append([v[h] for h in header])
        out.append(RawSheet(sheet.name, rows, kind=target))
    if extra_locations:
        out.append(RawSheet("netbox regions and clusters",
                            [list(HEADER["Location"])] + list(extra_locations.values()), kind="Location"))
    if images:
        out.append(RawSheet("netbox platforms", [list(HEADER["SoftwareImage"])] + list(images.values()),
                            kind="SoftwareImage"))
    return out


def netbox_file_order(names: list[str]) -> list[str]:
    order = ["sites", "locations", "racks", "devices", "virtualmachines"]

    def rank(name: str) -> int:
        stem = norm(Path(name).stem)
        return next((i for i, o in enumerate(order) if stem.startswith(o)), len(order))
    return sorted(names, key=rank)

