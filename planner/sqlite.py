"""SQLite as Planner uses it: foreign keys on, WAL, and write requests that take the lock first.

The embedded default (`make run`) and the tests use SQLite; several processes (gunicorn
workers, the command line) may share the file. WAL lets readers carry on while one process
writes, and `busy_timeout` makes a writer wait for the lock rather than fail.

Left to itself, pysqlite sends BEGIN only right before the first INSERT/UPDATE/DELETE: the
SELECTs a save makes first (the plan, the item's version, the next free key) run outside the
transaction, so two processes can both read "cn5 is free" and both insert it (a 500, from the
unique index); a read-then-write is not atomic. Beginning every transaction at its first
SELECT instead is no better in WAL mode: the read takes a snapshot, and when the transaction
then tries to write after another process has committed, SQLite answers at once with
SQLITE_BUSY_SNAPSHOT ("database is locked"), without waiting: tried that way, one 4-second run
of the writers in tests/test_faults.py got 66 of them.

So a request that may change something (any method but GET, HEAD, OPTIONS) begins with
`BEGIN IMMEDIATE`: it waits (busy_timeout) for the write lock, then reads and writes with no one
in between, like a row lock held for the whole request. pysqlite is told to send no BEGIN of
its own (`isolation_level = None`) and the engine's "begin" event sends ours, as SQLAlchemy's
documentation for pysqlite describes ("Serializable isolation / Savepoints / Transactional DDL").
Everything else (pages, the workshop's live streams, the command line, the tests' direct calls)
keeps pysqlite's behaviour: reads see the latest commit, and a deferred BEGIN comes right before
the first write, where waiting for the lock works. Readers never queue behind writers.

Threads of one process take turns on a Python lock before `BEGIN IMMEDIATE` (see `_turns`).
A write request holds the lock until its response is made (`init_app`), not until the last
byte is sent: Flask-Limiter counts some attempts after the view, on a connection of its own,
and would otherwise wait for the request's own lock.

The listeners attach to the app's own engine (`attach`), never to SQLAlchemy's Engine class:
another engine in the same process (a test's, a script's) keeps SQLite's defaults. PostgreSQL
is untouched: an app on it gets none of them.
"""

from __future__ import annotations

import re
import threading
from typing import Any

from flask import Flask, has_request_context, request
from flask.wrappers import Response
from sqlalchemy import event
from sqlalchemy.engine import Connection

from planner.extensions import db

# Requests that only read: no BEGIN IMMEDIATE, and no waiting behind writers.
READING_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# How long a write waits for another's to finish before it gives up (ms). A room's burst of
# cards and dots queues here, each holding the lock for a few milliseconds.
BUSY_TIMEOUT_MS = 15000
# The statements before which a transaction that has only read so far sends BEGIN: those
# before which pysqlite itself would, and SAVEPOINT (`db.session.begin_nested()`), which
# outside a transaction would begin one of its own that its RELEASE commits.
_WRITES = re.compile(r"\s*(INSERT|UPDATE|DELETE|REPLACE|SAVEPOINT)\b", re.IGNORECASE)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """SQLite enforces foreign keys only when asked, waits rather than fails on a lock, and
    leaves BEGIN to the listeners below."""
    dbapi_connection.isolation_level = None  # pysqlite sends no BEGIN of its own
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


# Set in a request's environ once its response is made: what runs after that only reads.
_ANSWERED = "planner.sqlite.answered"


def writing_request() -> bool:
    """A request that may write, and has not made its response yet."""
    return has_request_context() and request.method not in READING_METHODS and _ANSWERED not in request.environ


def _ours(conn: Connection) -> bool:
    """A connection whose transactions these listeners manage."""
    return conn.get_execution_options().get("isolation_level") != "AUTOCOMMIT"


# Threads of one process wait for the write lock here, in turn, rather than in SQLite's busy
# handler: that one sleeps longer the longer it has waited, so in a burst (a room of 150
# placing dots within seconds) newcomers keep overtaking, and the first to come can time out.
_turns: dict[str, threading.Lock] = {}
_turns_guard = threading.Lock()
_TURN = "planner.sqlite.turn"  # in a connection's info while it holds its process's turn
_holding = threading.local()


def _turn_for(conn: Connection) -> threading.Lock:
    with _turns_guard:
        return _turns.setdefault(str(conn.engine.url), threading.Lock())


def _take_turn(conn: Connection) -> None:
    if getattr(_holding, "turn", None) is not None:
        return  # this thread has it already, on another connection: never wait for yourself
    turn = _turn_for(conn)
    if turn.acquire(timeout=BUSY_TIMEOUT_MS / 1000):  # else SQLite's own wait still applies
        conn.info[_TURN] = turn
        _holding.turn = turn


def _give_turn(conn: Connection) -> None:
    turn = conn.info.pop(_TURN, None)
    if turn is not None:
        _holding.turn = None
        turn.release()


def _sqlite_begin(conn: Connection) -> None:
    if _ours(conn) and writing_request():
        _take_turn(conn)
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            _give_turn(conn)
            raise


def _begin_before_a_write(
    conn: Connection, cursor: Any, statement: str, _parameters: Any, _context: Any, _many: bool
) -> None:
    """Outside write requests: BEGIN (deferred) right before a transaction's first write, as
    pysqlite would; the write is then the transaction's first statement, and waits for the lock."""
    if _ours(conn) and conn.in_transaction() and _WRITES.match(statement):
        dbapi_connection = conn.connection.dbapi_connection
        if dbapi_connection is not None and not dbapi_connection.in_transaction:
            cursor.execute("BEGIN")


def _end_the_write(response: Response) -> Response:
    """A write request's work is committed by now, or is to be thrown away at teardown anyway:
    end its transaction here, so that the lock is not held while the response goes out."""
    if not writing_request():
        return response
    request.environ[_ANSWERED] = True  # later reads (the log line's user) need no lock
    session = db.session()
    if session.in_transaction() and session.get_bind().dialect.name == "sqlite":
        dbapi_connection = session.connection().connection.dbapi_connection
        if dbapi_connection is not None and dbapi_connection.in_transaction:
            session.rollback()
    return response


def attach(app: Flask) -> None:
    """Set up the app's SQLite engine: call right after `db.init_app`, before anything connects."""
    with app.app_context():
        engine = db.engine
    if engine.dialect.name != "sqlite":
        return
    event.listen(engine, "connect", _sqlite_pragmas)
    event.listen(engine, "begin", _sqlite_begin)
    event.listen(engine, "before_cursor_execute", _begin_before_a_write)
    event.listen(engine, "commit", _give_turn)
    event.listen(engine, "rollback", _give_turn)


def init_app(app: Flask) -> None:
    """Call after every extension that registers after_request functions: Flask runs the last
    registered first, and this must come before Flask-Limiter's."""
    app.after_request(_end_the_write)
