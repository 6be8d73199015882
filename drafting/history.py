"""Autosaved draft history: every draft, refinement, edit, partial stream and restore, per user.

One SQLite file (``<DRAFTING_DATA_DIR>/history.sqlite3``), one row per version, written in one
transaction, so a killed process leaves either the whole row or nothing.  Every query carries
``WHERE user = ?``: a writer never sees another writer's versions, and :meth:`History.get` of a
foreign id answers ``None`` exactly as an unknown id does.

Durability: ``journal_mode=WAL`` (readers never block the writer, the UI reads while it saves) with
``synchronous=FULL``.  In WAL mode ``NORMAL`` already survives a killed process, but a power cut
can roll back the last commits; ``FULL`` syncs the WAL on every commit, so a version the UI reported
as saved survives a machine restart too.  A writer saves a few versions a minute, so one fsync per
save costs nothing anyone can notice.

Confirmations: a figure the writer vouched for with 确认 in the checks panel is a row of
``confirmations`` (user, session, the figure, its clause, the version it was confirmed on); it belongs
to the section (session), so it survives a reload or a restore (:mod:`drafting.provenance`).
Schema version 2 added that table; opening a version-1 file (only ``versions``) creates it and
keeps every row.

Documents (schema version 3): a row of ``documents`` is one whole document (type, title, 落款, 成文日期
and its outline as JSON: ordered nodes, each naming the ``session`` its section's versions are saved
under, see :mod:`drafting.document`).  The upgrade only adds the table: an older file keeps every
version, confirmation and mark.

Threads: every call opens its own connection (``check_same_thread`` never matters) and writes
start with ``BEGIN IMMEDIATE`` under a busy timeout, so concurrent saves queue instead of failing.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import HistoryError, InputError

if TYPE_CHECKING:
    from .settings import Settings

__all__ = ["KINDS", "Confirmation", "History", "StoredDocument", "Version", "diff_versions"]

KINDS = ("draft", "refine", "edit", "partial", "restore")
FILE_NAME = "history.sqlite3"
_BUSY_MS = 30_000

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS versions (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    user      TEXT NOT NULL CHECK (user <> ''),
    session   TEXT NOT NULL,
    kind      TEXT NOT NULL CHECK (kind IN ({", ".join(repr(k) for k in KINDS)})),
    heading   TEXT NOT NULL,
    text      TEXT NOT NULL,
    engine    TEXT NOT NULL,
    inputs    TEXT NOT NULL CHECK (json_valid(inputs)),
    citations TEXT NOT NULL CHECK (json_valid(citations)),
    checks    TEXT NOT NULL CHECK (json_valid(checks)),
    parent    INTEGER REFERENCES versions(id),
    created   TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS versions_user ON versions (user, id);
CREATE INDEX IF NOT EXISTS versions_user_session ON versions (user, session, id);
CREATE TABLE IF NOT EXISTS confirmations (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    user      TEXT NOT NULL CHECK (user <> ''),
    session   TEXT NOT NULL,
    figure    TEXT NOT NULL CHECK (figure <> ''),
    context   TEXT NOT NULL,
    version   INTEGER REFERENCES versions(id),
    created   TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS confirmations_user_session ON confirmations (user, session, id);
CREATE TABLE IF NOT EXISTS ledger_marks (
    user    TEXT NOT NULL CHECK (user <> ''),
    pair    TEXT NOT NULL,
    reason  TEXT NOT NULL,
    finding TEXT NOT NULL CHECK (json_valid(finding)),
    created TEXT NOT NULL,
    PRIMARY KEY (user, pair)
);
CREATE TABLE IF NOT EXISTS documents (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    user     TEXT NOT NULL CHECK (user <> ''),
    doc_type TEXT NOT NULL,
    title    TEXT NOT NULL,
    issuer   TEXT NOT NULL,
    date     TEXT NOT NULL,
    outline  TEXT NOT NULL CHECK (json_valid(outline)),
    created  TEXT NOT NULL,
    updated  TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS documents_user ON documents (user, id);
PRAGMA user_version = 3;
"""

_COLUMNS = "id, user, session, kind, heading, text, engine, inputs, citations, checks, parent, created"


@dataclass
class Version:
    """One saved version, as the UI shows it."""

    id: int
    user: str
    session: str
    kind: str  # "draft" | "refine" | "edit" | "partial" | "restore"
    heading: str
    text: str
    engine: str
    inputs: dict[str, Any]
    citations: list[dict[str, Any]]
    checks: dict[str, Any]
    parent: int | None
    created: str  # ISO time, local, seconds


@dataclass
class Confirmation:
    """A figure the writer confirmed (确认) for one section: shown as 你的确认."""

    id: int
    session: str
    figure: str  # the figure as written, e.g. 3300套
    context: str  # its clause in the draft it was confirmed on
    version: int | None
    created: str


@dataclass
class StoredDocument:
    """One saved document: its fields and outline (``drafting.document.Document`` reads it)."""

    id: int
    doc_type: str
    title: str
    issuer: str
    date: str
    outline: list[dict[str, Any]]
    created: str
    updated: str


def _default(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.asdict(obj)
    to_json = getattr(obj, "to_json", None)
    if callable(to_json):
        return to_json()
    if isinstance(obj, set | frozenset | tuple):
        return list(obj)
    return str(obj)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=_default)


def _row(row: sqlite3.Row) -> Version:
    return Version(
        id=row["id"],
        user=row["user"],
        session=row["session"],
        kind=row["kind"],
        heading=row["heading"],
        text=row["text"],
        engine=row["engine"],
        inputs=json.loads(row["inputs"]),
        citations=json.loads(row["citations"]),
        checks=json.loads(row["checks"]),
        parent=row["parent"],
        created=row["created"],
    )


def _need_user(user: str) -> None:
    if not user:
        raise ValueError("history calls need a user name")


class History:
    """The per-user version store (see the module docstring)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path).expanduser()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise HistoryError(detail=f"无法创建目录 {self.path.parent}：{exc.strerror or exc}") from exc
        try:
            conn = sqlite3.connect(self.path, timeout=_BUSY_MS / 1000, isolation_level=None)
        except sqlite3.Error as exc:
            raise HistoryError(detail=f"{self.path}：{exc}") from exc
        try:
            mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise HistoryError(detail=f"{self.path}：无法启用 WAL 日志（{mode}）")
            conn.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise HistoryError(detail=f"{self.path}：{exc}") from exc
        finally:
            conn.close()

    @classmethod
    def for_settings(cls, settings: Settings) -> History:
        """The history file under ``settings.data_path()``."""
        return cls(settings.data_path() / FILE_NAME)

    # ----------------------------------------------------------------------------------------

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        conn: sqlite3.Connection | None = None
        try:
            conn = sqlite3.connect(self.path, timeout=_BUSY_MS / 1000, isolation_level=None)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA foreign_keys=ON")
            yield conn
        except sqlite3.Error as exc:
            raise HistoryError(detail=f"{self.path}：{exc}") from exc
        finally:
            if conn is not None:
                conn.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    @staticmethod
    def _insert(conn: sqlite3.Connection, user: str, values: dict[str, Any]) -> int:
        parent = values["parent"]
        if parent is not None:
            owner = conn.execute("SELECT 1 FROM versions WHERE id = ? AND user = ?",
                                 (parent, user)).fetchone()
            if owner is None:
                raise ValueError(f"parent version {parent} does not belong to this user")
        cur = conn.execute(
            "INSERT INTO versions (user, session, kind, heading, text, engine, inputs, citations, checks,"
            " parent, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                user,
                values["session"],
                values["kind"],
                values["heading"],
                values["text"],
                values["engine"],
                values["inputs"],
                values["citations"],
                values["checks"],
                parent,
                datetime.now().astimezone().isoformat(timespec="seconds"),
            ),
        )
        assert cur.lastrowid is not None
        return cur.lastrowid

    # ----------------------------------------------------------------------------------------

    def save(
        self,
        user: str,
        *,
        session: str,
        kind: str,
        heading: str,
        text: str,
        engine: str = "",
        inputs: dict[str, Any] | None = None,
        citations: list[Any] | None = None,
        checks: dict[str, Any] | None = None,
        parent: int | None = None,
    ) -> int:
        """Save one version in one transaction and return its id.

        ``kind="partial"`` is for the text a failed engine stream left (``EngineError.partial``).
        Dataclasses and objects with ``to_json()`` inside ``inputs``/``citations``/``checks`` are
        converted; other unknown objects are stored as their ``str``.
        """
        _need_user(user)
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
        values = {
            "session": session,
            "kind": kind,
            "heading": heading,
            "text": text,
            "engine": engine,
            "inputs": _dumps(inputs or {}),
            "citations": _dumps(list(citations or [])),
            "checks": _dumps(checks or {}),
            "parent": parent,
        }
        with self._write() as conn:
            return self._insert(conn, user, values)

    def update(
        self,
        user: str,
        version_id: int,
        *,
        kind: str,
        text: str,
        engine: str = "",
        inputs: dict[str, Any] | None = None,
        citations: list[Any] | None = None,
        checks: dict[str, Any] | None = None,
    ) -> bool:
        """Rewrite one of the user's versions in one transaction (a streaming draft's checkpoint row
        becoming the finished draft).  Returns False when the id is not the user's."""
        _need_user(user)
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
        with self._write() as conn:
            cur = conn.execute(
                "UPDATE versions SET kind = ?, text = ?, engine = ?, inputs = ?, citations = ?, checks = ? "
                "WHERE id = ? AND user = ?",
                (kind, text, engine, _dumps(inputs or {}), _dumps(list(citations or [])),
                 _dumps(checks or {}), int(version_id), user),
            )
            return cur.rowcount == 1

    def set_checks(self, user: str, version_id: int, checks: dict[str, Any]) -> bool:
        """Store the checks of one of the user's versions that was saved before they were computed
        (an editor save: the text is stored first, the checks after).  False when the id is not the user's."""
        _need_user(user)
        with self._write() as conn:
            cur = conn.execute("UPDATE versions SET checks = ? WHERE id = ? AND user = ?",
                               (_dumps(checks or {}), int(version_id), user))
            return cur.rowcount == 1

    def mark_basis(self, user: str, pair: str, reason: str, finding: dict[str, Any] | None = None) -> None:
        """Keep a writer's 口径不同 mark on a ledger finding (``pair`` is :func:`drafting.ledger.mark_key`):
        that pair is not asked again.  Marking it again replaces the reason."""
        _need_user(user)
        reason = (reason or "").strip()
        if not reason:
            raise InputError("请用一句话写明口径为什么不同（例如“本稿含新蔡县，上年不含”），再标记。")
        with self._write() as conn:
            conn.execute(
                "INSERT INTO ledger_marks (user, pair, reason, finding, created) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (user, pair) DO UPDATE SET reason = excluded.reason, created = excluded.created",
                (user, pair, reason[:200], _dumps(finding or {}),
                 datetime.now().isoformat(timespec="seconds")),
            )

    def basis_marks(self, user: str) -> dict[str, str]:
        """The user's 口径不同 marks: pair → reason."""
        _need_user(user)
        with self._connect() as conn:
            rows = conn.execute("SELECT pair, reason FROM ledger_marks WHERE user = ?", (user,)).fetchall()
        return {r[0]: r[1] for r in rows}

    def get(self, user: str, version_id: int) -> Version | None:
        """The version, or ``None`` when it does not exist or belongs to someone else."""
        _need_user(user)
        with self._connect() as conn:
            row = conn.execute(
                f"SELECT {_COLUMNS} FROM versions WHERE id = ? AND user = ?", (int(version_id), user)
            ).fetchone()
        return _row(row) if row is not None else None

    def versions(self, user: str, limit: int = 200, session: str | None = None) -> list[Version]:
        """The user's versions, newest first (optionally one session only)."""
        _need_user(user)
        sql = f"SELECT {_COLUMNS} FROM versions WHERE user = ?"
        args: list[Any] = [user]
        if session is not None:
            sql += " AND session = ?"
            args.append(session)
        sql += " ORDER BY id DESC LIMIT ?"
        args.append(max(0, int(limit)))
        with self._connect() as conn:
            rows = conn.execute(sql, args).fetchall()
        return [_row(r) for r in rows]

    def sessions(self, user: str) -> list[tuple[str, str, int, str]]:
        """``(session, heading of its latest version, number of versions, last time)``, newest first."""
        _need_user(user)
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT v.session, v.heading, s.n, v.created FROM versions v JOIN ("
                "  SELECT session, COUNT(*) AS n, MAX(id) AS last FROM versions WHERE user = ? GROUP BY "
                "session"
                ") s ON v.id = s.last WHERE v.user = ? ORDER BY v.id DESC",
                (user, user),
            ).fetchall()
        return [(r[0], r[1], int(r[2]), r[3]) for r in rows]

    def restore(self, user: str, version_id: int) -> int:
        """Save a new ``restore`` version copying ``version_id`` (its parent); return the new id.

        Raises :class:`KeyError` when the id is unknown or another user's.
        """
        _need_user(user)
        with self._write() as conn:
            row = conn.execute(
                f"SELECT {_COLUMNS} FROM versions WHERE id = ? AND user = ?", (int(version_id), user)
            ).fetchone()
            if row is None:
                raise KeyError(version_id)
            values = {k: row[k] for k in ("session", "heading", "text", "engine", "inputs", "citations",
                                          "checks")}
            values.update(kind="restore", parent=row["id"])
            return self._insert(conn, user, values)

    def confirm(self, user: str, *, session: str, figure: str, context: str = "",
                version: int | None = None) -> int:
        """Record that ``user`` vouches for ``figure`` in ``session``; return the row id."""
        _need_user(user)
        if not figure.strip():
            raise ValueError("a confirmation needs the figure")
        with self._write() as conn:
            if version is not None and conn.execute(
                "SELECT 1 FROM versions WHERE id = ? AND user = ?", (int(version), user)
            ).fetchone() is None:
                raise ValueError(f"version {version} does not belong to this user")
            cur = conn.execute(
                "INSERT INTO confirmations (user, session, figure, context, version, created) VALUES (?, ?, "
                "?, ?, ?, ?)",
                (user, session, figure, context, version,
                 datetime.now().astimezone().isoformat(timespec="seconds")),
            )
            assert cur.lastrowid is not None
            return cur.lastrowid

    def confirmations(self, user: str, session: str) -> list[Confirmation]:
        """The user's confirmations for one section, oldest first."""
        _need_user(user)
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT id, session, figure, context, version, created FROM confirmations"
                " WHERE user = ? AND session = ? ORDER BY id",
                (user, session),
            ).fetchall()
        return [Confirmation(r["id"], r["session"], r["figure"], r["context"], r["version"], r["created"])
                for r in rows]

    # ---- documents ------------------------------------------------------------------------
    def save_document(self, user: str, *, doc_type: str, title: str, issuer: str, date: str,
                      outline: list[dict[str, Any]], doc_id: int | None = None) -> int:
        """Insert a document (``doc_id`` None) or rewrite one of the user's; return its id.
        Raises :class:`KeyError` when ``doc_id`` is unknown or another user's."""
        _need_user(user)
        now = datetime.now().astimezone().isoformat(timespec="seconds")
        values = (doc_type, title, issuer, date, _dumps(outline))
        with self._write() as conn:
            if doc_id is None:
                cur = conn.execute(
                    "INSERT INTO documents (user, doc_type, title, issuer, date, outline, created, updated)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)", (user, *values, now, now))
                assert cur.lastrowid is not None
                return cur.lastrowid
            cur = conn.execute(
                "UPDATE documents SET doc_type = ?, title = ?, issuer = ?, date = ?, outline = ?, updated = ?"
                " WHERE id = ? AND user = ?", (*values, now, int(doc_id), user))
            if cur.rowcount != 1:
                raise KeyError(doc_id)
            return int(doc_id)

    def get_document(self, user: str, doc_id: int) -> StoredDocument | None:
        """The user's document, or ``None`` when it does not exist or is someone else's."""
        _need_user(user)
        with self._connect() as conn:
            r = conn.execute("SELECT id, doc_type, title, issuer, date, outline, created, updated FROM "
                             "documents"
                             " WHERE id = ? AND user = ?", (int(doc_id), user)).fetchone()
        if r is None:
            return None
        return StoredDocument(r["id"], r["doc_type"], r["title"], r["issuer"], r["date"],
                              json.loads(r["outline"]), r["created"], r["updated"])

    def documents(self, user: str) -> list[tuple[int, str, str, str]]:
        """``(id, title, doc_type, last saved)`` of the user's documents, newest first."""
        _need_user(user)
        with self._connect() as conn:
            rows = conn.execute("SELECT id, title, doc_type, updated FROM documents WHERE user = ?"
                                " ORDER BY updated DESC, id DESC", (user,)).fetchall()
        return [(int(r[0]), r[1], r[2], r[3]) for r in rows]

    def count(self, user: str | None = None) -> int:
        """Number of versions of one user, or of everybody (for operators and tests)."""
        with self._connect() as conn:
            if user is None:
                row = conn.execute("SELECT COUNT(*) FROM versions").fetchone()
            else:
                row = conn.execute("SELECT COUNT(*) FROM versions WHERE user = ?", (user,)).fetchone()
        return int(row[0])


# --------------------------------------------------------------------------------------------
# diff

# one token: a run of Latin letters/digits (with . , % inside numbers), else a single character
_TOKEN_RE = re.compile(r"[A-Za-z0-9]+(?:[.,%][A-Za-z0-9]+)*%?|\s+|.", re.DOTALL)
_MIN_EQUAL = 2  # shorter equal runs between two changes are folded into the change


def _tokens(text: str) -> list[str]:
    return _TOKEN_RE.findall(text)


def _append(out: list[tuple[str, str]], tag: str, text: str) -> None:
    if not text:
        return
    if out and out[-1][0] == tag:
        out[-1] = (tag, out[-1][1] + text)
    else:
        out.append((tag, text))


def _token_diff(a: str, b: str) -> list[tuple[str, str]]:
    ta, tb = _tokens(a), _tokens(b)
    ops: list[tuple[str, str, str]] = []  # (tag, old text, new text)
    sm = difflib.SequenceMatcher(None, ta, tb, autojunk=False)
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        ops.append((tag, "".join(ta[i1:i2]), "".join(tb[j1:j2])))
    return _fold(ops)


def _fold(ops: list[tuple[str, str, str]]) -> list[tuple[str, str]]:
    """Emit delete-then-insert per change; fold tiny equal runs between changes into the change."""
    out: list[tuple[str, str]] = []
    old, new = "", ""
    for k, (tag, x, y) in enumerate(ops):
        if tag == "equal":
            between = 0 < k < len(ops) - 1
            if between and len(x.strip()) < _MIN_EQUAL and "\n" not in x:
                old, new = old + x, new + y
                continue
            _append(out, "delete", old)
            _append(out, "insert", new)
            old, new = "", ""
            _append(out, "equal", x)
        else:
            old, new = old + x, new + y
    _append(out, "delete", old)
    _append(out, "insert", new)
    return out


def diff_versions(a: str, b: str) -> list[tuple[str, str]]:
    """``("equal"|"insert"|"delete", text)`` segments turning ``a`` into ``b``.

    Paragraphs are matched first, then changed paragraphs are compared word by word (a Latin word
    or a number is one token, a Chinese character is one), and equal runs of a single character
    between two changes are folded into the change so the view is not confetti.  Joining the
    ``equal`` and ``delete`` texts gives ``a``; joining ``equal`` and ``insert`` gives ``b``.
    """
    la, lb = a.splitlines(keepends=True), b.splitlines(keepends=True)
    out: list[tuple[str, str]] = []
    sm = difflib.SequenceMatcher(None, la, lb, autojunk=False)
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        old, new = "".join(la[i1:i2]), "".join(lb[j1:j2])
        if tag == "equal":
            _append(out, "equal", old)
        elif tag == "replace":
            for t, s in _token_diff(old, new):
                _append(out, t, s)
        else:
            _append(out, "delete", old)
            _append(out, "insert", new)
    return out
