"""The ``cmdb`` command line."""

from __future__ import annotations

from typing import Optional

import typer
from rich.table import Table
from rich.text import Text

from cmdb import __version__
from cmdb.faults.service import open_faults_of
from cmdb.levels.service import applicable_level
from cmdb.cli_support import (
    JSON_OPTION, cli_actor, cli_language, console, emit, open_graph, parse_assignments,
    print_json, print_table, reports_errors,
)
from cmdb.cli_i18n import LocalisedGroup
from cmdb.errors import InvalidInput
from cmdb.i18n import _, N_, ngettext, pgettext, set_language
from cmdb.i18n.names import (
    fault_status_name, history_action_name, kind_name, property_label, relationship_name, severity_name,
    value_text,
)

# Each command imports the modules it needs when it runs, so that every `cmdb` command (and
# --help) starts without loading pandas, FastAPI and every domain (start-up time).

# The root group puts every help text and Typer's own words into the run's language (cmdb.cli_i18n).
app = typer.Typer(cls=LocalisedGroup, no_args_is_help=True, add_completion=False,
                  help=N_("CMDB: hardware, software images, applications and locations as a graph."))
ci_app = typer.Typer(no_args_is_help=True, help=N_("Add, show, list, change and delete CIs."))
token_app = typer.Typer(no_args_is_help=True, help=N_("API tokens: create, list, revoke."))
app.add_typer(ci_app, name="ci")
app.add_typer(token_app, name="token")


@app.callback()
def _root(version: bool = typer.Option(False, "--version", help=N_("Print the version and exit."))):
    set_language(cli_language())
    if version:
        typer.echo(__version__)
        raise typer.Exit()


def _ci_row(ci) -> dict:
    return {"key": ci.key, "kind": ci.kind, **ci.properties}


# --- CIs ---------------------------------------------------------------------------------


@ci_app.command("add", help=N_("Create a CI."))
@reports_errors
def ci_add(kind: str = typer.Argument(..., help=N_("Location, Hardware, SoftwareImage or Application")),
           key: str = typer.Argument(..., help=N_("The asset tag (kept as text)")),
           values: list[str] = typer.Option([], "--set", "-s", help=N_("NAME=VALUE, repeatable")),
           as_json: bool = JSON_OPTION):
    with open_graph() as graph:
        ci = graph.create_ci(kind, key, parse_assignments(values), actor=cli_actor())
    emit(as_json, _ci_row(ci), _("created %(kind)s %(key)s", kind=kind_name(ci.kind), key=ci.key))


@ci_app.command("set", help=N_("Change properties of a CI: `cmdb ci set KEY ram_gb=32` or `cmdb ci"
                               " set KEY --set ram_gb=32`."))
@reports_errors
def ci_set(key: str, values: Optional[list[str]] = typer.Argument(None, help=N_("NAME=VALUE (NAME= "
                                                                    "removes it)")),
           options: list[str] = typer.Option([], "--set", "-s", help=N_("NAME=VALUE, repeatable, as "
                                             "with `ci add`")),
           as_json: bool = JSON_OPTION):
    changes = parse_assignments([*(values or []), *options])
    if not changes:

        raise InvalidInput(_("Say what to change: NAME=VALUE (or --set NAME=VALUE)"), field="--set")
    with open_graph() as graph:
        ci = graph.update_ci(key, changes, actor=cli_actor())
    emit(as_json, _ci_row(ci), _("updated %(kind)s %(key)s (revision %(revision)s)",
                                 kind=kind_name(ci.kind), key=ci.key, revision=ci.revision))


@ci_app.command("show", help=N_("Show a CI with its location and relationships."))
@reports_errors
def ci_show(key: str, as_json: bool = JSON_OPTION):
    from cmdb.graph.values import path_text

    with open_graph() as graph:
        ci = graph.get_ci(key)
        rels = graph.relationships(key)
        path = graph.location_path(key)
        applied = applicable_level(graph, key)
        faults = open_faults_of(graph, [key])
    if as_json:
        print_json({**_ci_row(ci), "location_path": path, "relationships": rels,
                    "service_level": applied.as_dict(), "open_faults": faults})
        return
    table = Table(title=f"{kind_name(ci.kind)} {ci.key}", show_header=False)
    for name, value in sorted(ci.properties.items()):
        table.add_row(property_label(name), value_text(name, value))
    if path:
        table.add_row(property_label("location"), path_text(path))
    table.add_row(_("service level"), applied.reason_words())
    print_table(table)
    if faults:
        ft = Table(pgettext("heading", "fault"), pgettext("heading", "severity"),
                   pgettext("heading", "status"), pgettext("heading", "title"),
                   pgettext("heading", "reported"), title=_("open faults"))
        for f in faults:
            ft.add_row(f["id"], severity_name(f["severity"]), fault_status_name(f["status"]),
                       Text(f["title"]), f["reported_at"][:16])
        print_table(ft)
    if rels:
        rt = Table(pgettext("heading", "direction"), pgettext("heading", "type"),
                   pgettext("heading", "key"), pgettext("heading", "kind"),
                   pgettext("heading", "name"), title=_("relationships"))
        for r in rels:
            rt.add_row("→" if r["direction"] == "out" else "←", relationship_name(r["type"]),
                       r["key"], kind_name(r["kind"]), r["name"] or "")
        print_table(rt)


@ci_app.command("list", help=N_("List CIs, filtered and paginated."))
@reports_errors
def ci_list(kind: Optional[str] = typer.Option(None, help=N_("Location, Hardware, SoftwareImage, Application")),
            status: Optional[str] = typer.Option(None),
            category: Optional[str] = typer.Option(None),
            location: Optional[str] = typer.Option(None, help=N_("Only CIs inside this location's subtree")),
            q: Optional[str] = typer.Option(None, help=N_("Text in key, name, serial or model")),
            fields: list[str] = typer.Option([], "--field", help=N_("NAME=VALUE: a custom field's "
                                             "value, repeatable")),
            limit: int = typer.Option(50, min=1, max=100_000),
            offset: int = typer.Option(0, min=0),
            as_json: bool = JSON_OPTION):
    with open_graph() as graph:
        page = graph.list_cis(kind=kind, status=status, category=category, location=location,
                              q=q, offset=offset, limit=limit,
                              fields=parse_assignments(fields) if fields else None)
    if as_json:
        print_json({"total": page.total, "offset": page.offset, "limit": page.limit,
                    "items": [_ci_row(ci) for ci in page.items]})
        return
    table = Table(pgettext("heading", "key"), pgettext("heading", "kind"),
                  pgettext("heading", "name"), pgettext("heading", "category/type"),
                  pgettext("heading", "status"),
                  title=ngettext("%(num)s CI, showing %(first)s–%(last)s",
                                 "%(num)s CIs, showing %(first)s–%(last)s", page.total,
                                 first=page.offset + 1 if page.items else 0,
                                 last=page.offset + len(page.items)))
    for ci in page.items:
        p = ci.properties
        sort_of = (value_text("category", p["category"]) if p.get("category")
                   else value_text("type", p.get("type")))
        table.add_row(ci.key, kind_name(ci.kind), p.get("name") or "", sort_of,
                      value_text("status", p.get("status")))
    print_table(table)


@ci_app.command("delete", help=N_("Delete a CI (refused while other CIs need it, unless --force)."))
@reports_errors
def ci_delete(key: str, force: bool = typer.Option(False, "--force", help=N_("Delete even if other CIs need it")),
              as_json: bool = JSON_OPTION):
    with open_graph() as graph:
        removed = graph.delete_ci(key, actor=cli_actor(), force=force)
    emit(as_json, {"deleted": key, "relationships_removed": removed},
         ngettext("deleted %(key)s and %(num)s relationship", "deleted %(key)s and %(num)s relationships",
                  len(removed), key=key))


# --- relationships and history -------------------------------------------------------------


@app.command("link", help=N_("Link FROM -TYPE-> TO (FROM needs TO), e.g. `cmdb link WEB-01 "
                             "LOCATED_IN RACK-A1`."))
@reports_errors
def link(from_key: str, rel_type: str = typer.Argument(..., metavar="TYPE"), to_key: str = typer.Argument(...),
         as_json: bool = JSON_OPTION):
    with open_graph() as graph:
        result = graph.link(from_key, rel_type, to_key, actor=cli_actor())
    created = bool(result.created)
    if as_json:
        print_json({"created": created,
                    "replaced": [{"from": l.from_key, "type": l.type, "to": l.to_key} for l in result.replaced]})
    else:
        console.print((_("linked %(a)s → %(b)s", a=from_key, b=to_key) if created else
                       _("already linked %(a)s → %(b)s", a=from_key, b=to_key)), markup=False)


@app.command("unlink", help=N_("Remove the relationship FROM -TYPE-> TO."))
@reports_errors
def unlink(from_key: str, rel_type: str = typer.Argument(..., metavar="TYPE"), to_key: str = typer.Argument(...),
           as_json: bool = JSON_OPTION):
    with open_graph() as graph:
        graph.unlink(from_key, rel_type, to_key, actor=cli_actor())
    emit(as_json, {"removed": True}, _("unlinked %(a)s → %(b)s", a=from_key, b=to_key))


@app.command("history", help=N_("The change log of a CI, newest first."))
@reports_errors
def history(key: str, limit: int = typer.Option(50, min=1, max=10_000), as_json: bool = JSON_OPTION):
    with open_graph() as graph:
        entries, total = graph.history(key, limit=limit)
    if as_json:
        print_json({"total": total, "items": [e.as_dict() for e in entries]})
        return
    table = Table(pgettext("heading", "at"), pgettext("heading", "actor"),
                  pgettext("heading", "action"), pgettext("heading", "before"),
                  pgettext("heading", "after"), pgettext("heading", "source"),
                  title=_("history of %(key)s", key=key))
    for e in entries:
        table.add_row(e.at, e.actor, history_action_name(e.action), _brief(e.before),
                      _brief(e.after), e.source or "")
    print_table(table)


def _brief(values) -> str:
    if not values:
        return ""
    return ", ".join(f"{property_label(k)}={value_text(k, v)}" for k, v in sorted(values.items()))


# --- demo and server -------------------------------------------------------------------------


@app.command("demo", help=N_("Load the demo estate (2 sites, ~150 devices, 6 images, ~30 "
                             "applications). Safe to re-run."))
@reports_errors
def demo(if_empty: bool = typer.Option(False, "--if-empty", help=N_("Only load into an empty register.")),
         as_json: bool = JSON_OPTION):
    from cmdb.demo import load_demo

    with open_graph() as graph:
        if if_empty and graph.list_cis(limit=0).total:
            summary = {"skipped": "the register is not empty", "created": 0, "updated": 0,
                       "unchanged": 0, "relationships_created": 0}
        else:
            summary = load_demo(graph, actor=cli_actor())
    if as_json:
        print_json(summary)
    elif "skipped" in summary:
        console.print(_("the register already holds CIs; demo estate not loaded"), markup=False)
    else:
        console.print(_("demo estate: %(created)s CIs created, %(updated)s updated, %(unchanged)s "
                        "unchanged; %(links)s relationships created", created=summary["created"],
                        updated=summary["updated"], unchanged=summary["unchanged"],
                        links=summary["relationships_created"]), markup=False)


@app.command("serve", help=N_("Start the engine and the web API; prints a first admin token on a "
                              "fresh data directory."))
@reports_errors
def serve(host: Optional[str] = typer.Option(None, help=N_("Address to listen on (default CMDB_HOST)")),
          port: Optional[int] = typer.Option(None, min=0, max=65535,
                                             help=N_("Port (default CMDB_PORT; 0: any free port)")),
          workers: Optional[int] = typer.Option(None, "--workers", min=1, max=64,
                                                help=N_("API worker processes (default CMDB_WORKERS, else one per core)"))):
    from cmdb.server import run_server

    run_server(host=host, port=port, workers=workers)


# --- tokens --------------------------------------------------------------------------------------


@token_app.command("create", help=N_("Create an API token; it is printed once and stored only as a"
                                     " hash."))
@reports_errors
def token_create(name: str = typer.Option(..., "--name"),
                 role: str = typer.Option(..., "--role", help=N_("viewer, asset_staff, reviewer, auditor, "
                                          "registrar or admin")),
                 scope: Optional[str] = typer.Option(None, "--scope", help=N_("Key of a Location: the "
                                                     "token writes, scans and prints labels only "
                                                     "inside it (reads stay register-wide)")),
                 as_json: bool = JSON_OPTION):
    from cmdb.graph.tokens import create_token, validate_role

    validate_role(role)
    with open_graph() as graph:
        token = create_token(graph, name, role, created_by=cli_actor(), scope=scope)
    if as_json:
        print_json({"name": name, "role": role, "scope": scope, "token": token})
    else:
        inside = _(", writes only inside %(scope)s", scope=scope) if scope else ""
        console.print(_("token for %(name)s (%(role)s%(inside)s) — store it now, it is not shown "
                        "again:", name=name, role=role, inside=inside) + f"\n{token}", markup=False)


@token_app.command("list", help=N_("List tokens (names and roles; the secrets are not stored)."))
@reports_errors
def token_list(as_json: bool = JSON_OPTION):
    from cmdb.graph.tokens import list_tokens

    with open_graph() as graph:
        tokens = list_tokens(graph)
    if as_json:
        print_json([t.__dict__ for t in tokens])
        return
    table = Table(pgettext("heading", "name"), pgettext("heading", "role"),
                  pgettext("heading", "scope"), pgettext("heading", "created"),
                  pgettext("heading", "revoked"))
    for t in tokens:
        table.add_row(t.name, t.role, t.scope or "", t.created_at or "", t.revoked_at or "")
    print_table(table)


@token_app.command("revoke", help=N_("Revoke a token by name."))
@reports_errors
def token_revoke(name: str, as_json: bool = JSON_OPTION):
    from cmdb.graph.tokens import revoke_token

    with open_graph() as graph:
        revoke_token(graph, name)
    emit(as_json, {"revoked": name}, _("revoked %(name)s", name=name))


# --- commands of the other domains register themselves here -------------------------------------

from importers.cli import register as _register_import_commands  # noqa: E402
_register_import_commands(app)
from cmdb.impact.cli import register as _register_impact  # noqa: E402
_register_impact(app)
from cmdb.audit.cli import register as _register_audit  # noqa: E402
_register_audit(app)
from cmdb.backup.cli import register as _register_backup  # noqa: E402
_register_backup(app)
from cmdb.labels.cli import register as _register_labels  # noqa: E402
_register_labels(app)
from cmdb.vocabulary.cli import register as _register_vocabulary  # noqa: E402
_register_vocabulary(app)
from cmdb.baselines.cli import register as _register_baselines  # noqa: E402
_register_baselines(app)
from cmdb.images.cli import register as _register_images  # noqa: E402
_register_images(app)
from cmdb.documents.cli import register as _register_documents  # noqa: E402
_register_documents(app)
from cmdb.service.cli import register as _register_service  # noqa: E402
_register_service(app)
from cmdb.levels.cli import register as _register_levels  # noqa: E402
_register_levels(app)
from cmdb.faults.cli import register as _register_faults  # noqa: E402
_register_faults(app)
from cmdb.maintenance.cli import register as _register_rounds  # noqa: E402
_register_rounds(app)
from cmdb.reports.cli import register as _register_reports  # noqa: E402
_register_reports(app)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
