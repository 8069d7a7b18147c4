"""All configuration, read from ``CMDB_*`` environment variables (and an optional ``.env``)."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from cmdb.i18n import LANGUAGES, normalise_language


# A folder holds a register once the embedded engine has started there: it keeps its
# generated root password in this file.
REGISTER_MARKER = "root_password"
REGISTER_FOLDER = "data"


def user_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "cmdb"


def find_register(start: Path | None = None) -> Path | None:
    """The nearest ``data/`` folder holding a register, from ``start`` (the current folder) up.

    ``make run`` keeps a working copy's register in its ``./data``; a ``cmdb`` command run
    anywhere inside that working copy finds the same register this way.
    """
    start = (start or Path.cwd()).resolve()
    for folder in (start, *start.parents):
        candidate = folder / REGISTER_FOLDER
        if (candidate / REGISTER_MARKER).is_file():
            return candidate
    return None


def _default_data_dir() -> Path:
    return find_register() or user_data_dir()


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CMDB_", env_file=".env", extra="ignore")

    # Graph engine. No URI means the embedded engine in ``data_dir``.
    neo4j_uri: str | None = None
    neo4j_user: str = "neo4j"
    neo4j_password: str | None = None
    neo4j_database: str | None = None
    data_dir: Path = Field(default_factory=_default_data_dir)
    engine_heap: str = "2g"
    # A command that finds no engine running starts one in the background, kept this long
    # after its last use for the next commands; 0: each command starts its own.
    engine_idle_seconds: int = 300

    # API and pages.
    base_url: str = "http://127.0.0.1:8000"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)  # 0: a free port the system chooses
    # API worker processes of `cmdb serve`; 0: one per core.
    workers: int = Field(default=0, ge=0, le=64)
    max_body_bytes: int = 1_000_000
    max_upload_bytes: int = 50 * 1024 * 1024
    max_page_size: int = 500
    max_query_length: int = 200
    secure_cookies: bool = False
    max_sessions_per_token: int = 10
    signin_failures_allowed: int = 10       # per client address and window, then 429
    signin_failure_window_seconds: int = 300

    # The organisation's language (en, zh_CN, zh_TW): commands speak it (else the locale's),
    # and reports and labels are written in it unless asked for another.
    language: str | None = None

    # Labels.
    label_font: str | None = None
    organisation: str | None = None

    # Imports.
    max_unzipped_bytes: int = 500 * 1024 * 1024
    # Spreadsheets are read in a child process with these limits (a reader that overruns them
    # stops there, not the server).
    max_parse_memory_mb: int = 2048
    max_parse_seconds: float = 300.0
    max_sheet_cells: int = 20_000_000
    max_mapping_bytes: int = 256 * 1024
    # The most changes one import may make: the importing process holds the file's plan in
    # memory (about 1.5 GB for 220,000 changes).
    max_import_changes: int = 225_000
    # An import is written in transactions of this many rows, all or nothing together
    # (cmdb.graph.import_runs): the engine holds one batch in memory at a time.
    import_batch_rows: int = Field(5000, ge=1, le=1_000_000)

    # Audits: the contract's twice-yearly inventory.
    audit_cadence_days: int = 182
    # A never audited asset is due this many days after it entered the register.
    audit_first_due_days: int = 0

    # Repairs: written progress every N working days; a sent-out unit back within M.
    repair_progress_working_days: int = Field(3, ge=1, le=365)
    repair_return_working_days: int = Field(15, ge=1, le=365)
    # Documents (files attached to CIs, models, categories) and baseline snapshots are kept
    # under ``files_dir`` (default: ``files/`` in the data directory).
    files_dir: Path | None = None
    max_document_bytes: int = 25 * 1024 * 1024

    @field_validator("language")
    @classmethod
    def _known_language(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        language = normalise_language(value)
        if language is None:
            raise ValueError(f"CMDB_LANGUAGE={value!r}: use one of {', '.join(LANGUAGES)}")
        return language

    @property
    def cookies_secure(self) -> bool:
        """Cookies only over https: said outright, or implied by an https base URL."""
        return self.secure_cookies or self.base_url.lower().startswith("https://")

    @property
    def register_dir(self) -> Path:
        """``data_dir`` as an absolute path: the one name of this register's folder."""
        return self.data_dir.expanduser().resolve()

    @property
    def file_store_dir(self) -> Path:
        """Where stored files (documents, baseline snapshots) are kept."""
        return (self.files_dir or self.register_dir / "files").expanduser().resolve()

    @property
    def embedded(self) -> bool:
        return not self.neo4j_uri

    @property
    def database(self) -> str:
        if self.neo4j_database:
            return self.neo4j_database
        return "cmdb" if self.embedded else "neo4j"


@lru_cache
def get_settings() -> Settings:
    return Settings()
