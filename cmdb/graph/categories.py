"""Changing the register's vocabulary: categories, status words and custom fields.

A rename or merge rewrites every CI that uses the category, each with its history entry, in
the same transaction as the change to the category records: all of it or none.
"""

from __future__ import annotations

from typing import Any, Iterable

from neo4j import ManagedTransaction

from cmdb.errors import DuplicateKey, InvalidInput, NotFound, StillNeeded
from cmdb.graph import writer
from cmdb.graph.ci import Graph
from cmdb.graph.history import ChangeLog
from cmdb.graph.values import CIInput
from cmdb.graph.writer import Changes
from cmdb.i18n import _, ngettext
from cmdb.graph.vocabulary import (
    FLAGS, CustomField, Term, Vocabulary, category_users, check_field, check_key, check_names,
    check_synonyms, create_categories, create_fields, delete_category, read_vocabulary,
    set_category, set_status,
)

SHOWN_USERS = 20


def _category(words: Vocabulary, key: str) -> Term:
    found = words.categories.get(key) or words.categories.get(words.category_key(key) or "")
    if found is None:
        raise NotFound(_("No category %(key)s; categories: %(categories)s", key=repr(key),
                         categories=", ".join(words.shown_category(k) for k in words.categories)),
                       {"key": key, "allowed": list(words.categories)})
    return found


def _clashes(words: Vocabulary, term: Term, ignore: Iterable[str] = ()) -> None:
    """A new or changed category may not take another category's key, name or synonym."""
    skip = set(ignore)
    for word in term.words():
        owner = words.category_key(word)
        if owner is not None and owner not in skip and owner != term.key:
            raise DuplicateKey(_("%(word)s already names the category %(category)s; merge into it or choose "
                                 "another word", word=repr(word), category=repr(owner)), {"key": term.key, "word": word,
                                                          "category": owner})


def new_term(key: str, names: dict[str, Any] | None = None, synonyms: Iterable[Any] = (),
             flags: dict[str, bool] | None = None) -> Term:
    checked = check_key(key)
    shown = check_names(names)
    shown.setdefault("en", key if checked == key else key.strip())
    unknown = set(flags or {}) - set(FLAGS)
    if unknown:
        raise InvalidInput(_("Unknown flags %(flags)s; allowed: %(allowed)s", flags=sorted(unknown),
                             allowed=", ".join(FLAGS)),
                           field="flags", value=sorted(unknown), allowed=list(FLAGS))
    return Term(checked, shown, check_synonyms(synonyms), {f: bool((flags or {}).get(f)) for f in FLAGS})


def add_category(graph: Graph, term: Term) -> Term:
    def work(tx: ManagedTransaction) -> None:
        words = read_vocabulary(tx)
        if term.key in words.categories:
            raise DuplicateKey(_("The category %(key)s exists already", key=repr(term.key)), {"key": term.key})
        _clashes(words, term)
        create_categories(tx, [term])
    graph.write(work)
    return term


def _rewrite(tx: ManagedTransaction, old: str, new: str, history: ChangeLog) -> list[str]:
    """Every CI with category ``old`` gets ``new``, through the one writer (history included)."""
    keys = category_users(tx, old)
    if keys:
        writer.apply(tx, Changes(updates=[CIInput(k, "Hardware", {"category": new}) for k in keys]),
                     history)
    return keys


def rename_category(graph: Graph, key: str, new_key: str | None = None, *,
                    names: dict[str, Any] | None = None, synonyms: Iterable[Any] | None = None,
                    flags: dict[str, bool] | None = None, actor: str) -> tuple[Term, list[str]]:
    """Give a category a new key and/or names, synonyms and flags. The old key stays a synonym
    (files written with it still import). Returns the category and the CIs rewritten."""
    def work(tx: ManagedTransaction) -> tuple[Term, list[str]]:
        words = read_vocabulary(tx)
        current = _category(words, key)
        target = check_key(new_key) if new_key else current.key
        if target != current.key and target in words.categories:
            raise DuplicateKey(_("The category %(key)s exists already; merge into it instead", key=repr(target)),
                               {"key": target})
        unknown = set(flags or {}) - set(FLAGS)
        if unknown:
            raise InvalidInput(_("Unknown flags %(flags)s; allowed: %(allowed)s", flags=sorted(unknown),
                             allowed=", ".join(FLAGS)),
                               field="flags", value=sorted(unknown), allowed=list(FLAGS))
        kept = list(current.synonyms if synonyms is None else check_synonyms(synonyms))
        if target != current.key:
            kept.append(current.key)
        term = Term(target, {**current.names, **check_names(names)}, check_synonyms(kept),
                    {**current.flags, **(flags or {})})
        _clashes(words, term, ignore=[current.key])
        set_category(tx, current.key, term)
        history = ChangeLog(actor, f"category rename {current.key} -> {target}")
        rewritten = _rewrite(tx, current.key, target, history) if target != current.key else []
        return term, rewritten
    return graph.write(work)


def merge_categories(graph: Graph, source: str, into: str, *, actor: str) -> tuple[Term, list[str]]:
    """Move every CI of ``source`` to ``into``; ``source``'s key, names and synonyms become
    synonyms of ``into``; ``source`` is deleted."""
    def work(tx: ManagedTransaction) -> tuple[Term, list[str]]:
        words = read_vocabulary(tx)
        gone, target = _category(words, source), _category(words, into)
        if gone.key == target.key:
            raise InvalidInput(_("Cannot merge %(key)s into itself", key=repr(gone.key)), field="into", value=into)
        own = {w.casefold() for w in target.words()}
        extra = [w for w in gone.words() if w and w.casefold() not in own]
        term = Term(target.key, target.names, check_synonyms([*target.synonyms, *extra]),
                    target.flags)
        delete_category(tx, gone.key)
        set_category(tx, target.key, term)
        history = ChangeLog(actor, f"category merge {gone.key} -> {target.key}")
        rewritten = _rewrite(tx, gone.key, target.key, history)
        return term, rewritten
    return graph.write(work)


def remove_category(graph: Graph, key: str) -> Term:
    """Delete a category no CI uses; one in use must be merged into another instead."""
    def work(tx: ManagedTransaction) -> Term:
        words = read_vocabulary(tx)
        term = _category(words, key)
        users = category_users(tx, term.key)
        if users:
            shown = ", ".join(users[:SHOWN_USERS]) + (" …" if len(users) > SHOWN_USERS else "")
            raise StillNeeded(ngettext("The category %(key)s is used by %(num)s CI (%(shown)s); merge it into "
                                       "another instead: %(command)s",
                                       "The category %(key)s is used by %(num)s CIs (%(shown)s); merge it into "
                                       "another instead: %(command)s", len(users), key=repr(term.key),
                                       shown=shown, command=f"cmdb category merge {term.key} OTHER"),
                              {"key": term.key, "used_by": users[:100], "count": len(users)})
        delete_category(tx, term.key)
        return term
    return graph.write(work)


def add_status_words(graph: Graph, state: str, words_to_add: Iterable[Any]) -> Term:
    """Another tool's label for one of the fixed states (``Out for Calibration`` -> in_repair)."""
    def work(tx: ManagedTransaction) -> Term:
        words = read_vocabulary(tx)
        current = words.statuses.get(state) or words.statuses.get(words.status_key(state) or "")
        if current is None:
            raise NotFound(_("No status %(state)s; the statuses are fixed: %(statuses)s", state=repr(state),
                             statuses=", ".join(words.statuses)),
                           {"key": state, "allowed": list(words.statuses)})
        added = check_synonyms(words_to_add)
        for word in added:
            owner = words.status_key(word)
            if owner is not None and owner != current.key:
                raise DuplicateKey(_("%(word)s already means the status %(status)s", word=repr(word), status=repr(owner)),
                                   {"word": word, "status": owner})
        term = Term(current.key, current.names, check_synonyms([*current.synonyms, *added]))
        set_status(tx, term)
        return term
    return graph.write(work)


def add_field(graph: Graph, kind: str, name: Any, type_: Any, *, names: dict[str, Any] | None = None,
              choices: Iterable[Any] = ()) -> CustomField:
    declared = check_field(kind, name, type_, names, choices)

    def work(tx: ManagedTransaction) -> None:
        if read_vocabulary(tx).field(declared.kind, declared.name) is not None:
            raise DuplicateKey(_("%(kind)s has a field %(name)s already", kind=declared.kind, name=repr(declared.name)),
                               {"kind": declared.kind, "name": declared.name})
        create_fields(tx, [declared])
    graph.write(work)
    return declared


__all__ = ["add_category", "rename_category", "merge_categories", "remove_category",
           "add_status_words", "add_field", "new_term"]
