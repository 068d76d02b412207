"""The ledger journal: one line per row, rotation, deletion once settled, replay of dead
processes' segments (never a live one's), torn lines, and the writer replaying on start."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from freehold.ledger import BatchedWriter, LedgerRow, LedgerStore
from freehold.ledger.base import TextRecord
from freehold.ledger.journal import Journal, decode, encode
from freehold.ledger.sqlite import SqliteStore

MakeRow = Callable[..., LedgerRow]


def segments(directory: Path) -> list[Path]:
    return sorted(directory.glob("seg-*.jsonl"))


def journal_rows(directory: Path) -> list[LedgerRow]:
    return [decode(line) for path in segments(directory) for line in path.read_bytes().splitlines()]


def test_each_row_is_one_line_read_back_exactly(tmp_path: Path, make_row: MakeRow) -> None:
    journal = Journal(tmp_path)
    rows = [
        make_row(0, text=TextRecord("req-00000", "small", "a prompt", "an answer")),
        make_row(1, cost_usd=Decimal("1E-9"), ttft_ms=None, decision={"policy": "cascade"}),
        make_row(2, verdicts=({"validator": "json", "passed": False, "reason": "x"},)),
    ]
    for row in rows:
        assert journal.append(row) is not None
    (path,) = segments(tmp_path)
    assert path.read_bytes().count(b"\n") == 3
    assert journal_rows(tmp_path) == rows  # the kept prompt and answer included
    assert journal.pending() == 3
    journal.close()


def test_rows_no_fast_encoder_takes_still_round_trip(make_row: MakeRow) -> None:
    odd = make_row(0, prompt_tokens=2**64, requested_model="bad \ud800 name")
    line = encode(odd)
    assert line is not None and line.endswith(b"\n") and line.count(b"\n") == 1
    assert decode(line) == odd


def test_segments_rotate_by_rows_and_by_size(tmp_path: Path, make_row: MakeRow) -> None:
    by_rows = Journal(tmp_path / "rows", max_segment_rows=3)
    for i in range(7):
        by_rows.append(make_row(i))
    assert [len(p.read_bytes().splitlines()) for p in segments(tmp_path / "rows")] == [3, 3, 1]
    line = len(encode(make_row(0)) or b"")
    by_size = Journal(tmp_path / "size", max_segment_bytes=2 * line + 1)
    for i in range(5):
        by_size.append(make_row(i))
    assert [len(p.read_bytes().splitlines()) for p in segments(tmp_path / "size")] == [2, 2, 1]
    assert [r.id for r in journal_rows(tmp_path / "size")] == [make_row(i).id for i in range(5)]
    by_rows.close()
    by_size.close()


def test_a_segment_is_deleted_once_rotated_and_every_row_settled(
    tmp_path: Path, make_row: MakeRow
) -> None:
    journal = Journal(tmp_path, max_segment_rows=2)
    first = [journal.append(make_row(i)) for i in range(2)]
    third = journal.append(make_row(2))  # rotates: the first segment is retired
    assert len(segments(tmp_path)) == 2
    journal.settle(first[:1])
    assert len(segments(tmp_path)) == 2  # one of its rows is still on its way
    journal.settle(first[1:])
    assert len(segments(tmp_path)) == 1
    journal.settle([third])
    assert len(segments(tmp_path)) == 1  # the active segment stays until rotated or closed
    assert journal.close() == 0
    assert segments(tmp_path) == []


def test_a_segment_settled_before_rotation_is_deleted_at_rotation(
    tmp_path: Path, make_row: MakeRow
) -> None:
    journal = Journal(tmp_path, max_segment_rows=1)
    journal.settle([journal.append(make_row(0))])
    journal.append(make_row(1))
    assert [r.id for r in journal_rows(tmp_path)] == ["req-00001"]
    journal.close()


def test_a_settled_active_segment_is_dropped_once_old(tmp_path: Path, make_row: MakeRow) -> None:
    journal = Journal(tmp_path, max_segment_age_s=0.0)
    token = journal.append(make_row(0))
    assert len(segments(tmp_path)) == 1
    journal.settle([token])
    assert segments(tmp_path) == []  # quiet traffic leaves nothing stored behind to replay
    journal.append(make_row(1))
    assert [r.id for r in journal_rows(tmp_path)] == ["req-00001"]
    young = Journal(tmp_path / "young")  # the default: kept a minute
    young.settle([young.append(make_row(2))])
    assert len(segments(tmp_path / "young")) == 1
    journal.close()
    young.close()


def test_close_keeps_unsettled_rows_for_the_next_start(
    tmp_path: Path, make_row: MakeRow, caplog: pytest.LogCaptureFixture
) -> None:
    journal = Journal(tmp_path, max_segment_rows=2)
    tokens = [journal.append(make_row(i)) for i in range(5)]
    journal.settle(tokens[:2] + tokens[3:4])
    with caplog.at_level(logging.WARNING, logger="freehold.ledger"):
        assert journal.close() == 2
    assert "2 row(s) not yet in the ledger" in caplog.text
    assert journal.append(make_row(9)) is None  # closed
    heir = Journal(tmp_path)
    adopted = heir.adopt_dead()
    # what is replayed: every row of the segments left behind, settled ones included
    assert sorted(r.id for r, _ in adopted) == [make_row(i).id for i in (2, 3, 4)]
    assert heir.close() == 3


def test_adopted_segments_are_deleted_once_settled(tmp_path: Path, make_row: MakeRow) -> None:
    dead = Journal(tmp_path, max_segment_rows=2)
    for i in range(3):
        dead.append(make_row(i))
    dead.close()
    heir = Journal(tmp_path)
    adopted = heir.adopt_dead()
    assert [r.id for r, _ in adopted] == [make_row(i).id for i in range(3)]
    assert heir.pending() == 3
    heir.settle(segment for _, segment in adopted[:2])
    assert len(segments(tmp_path)) == 1
    heir.settle([adopted[2][1]])
    assert segments(tmp_path) == []
    assert heir.adopt_dead() == []


def test_torn_last_line_and_garbage_are_skipped_with_a_warning(
    tmp_path: Path, make_row: MakeRow, caplog: pytest.LogCaptureFixture
) -> None:
    whole = [encode(make_row(i)) or b"" for i in range(3)]
    torn = (encode(make_row(3)) or b"")[:40]
    (tmp_path / "seg-00000000000000000001-1-aa.jsonl").write_bytes(
        whole[0] + b"not json\n" + whole[1] + whole[2] + torn
    )
    heir = Journal(tmp_path)
    with caplog.at_level(logging.WARNING, logger="freehold.ledger"):
        adopted = heir.adopt_dead()
    assert [r.id for r, _ in adopted] == [make_row(i).id for i in range(3)]
    heir.close()
    assert "torn last line (40 bytes" in caplog.text
    assert "skipped line 2" in caplog.text


def test_empty_and_stale_temporary_files_are_removed(tmp_path: Path) -> None:
    empty = tmp_path / "seg-00000000000000000001-1-aa.jsonl"
    empty.touch()
    stale = tmp_path / ".tmp-seg-00000000000000000002-1-bb.jsonl"
    stale.touch()
    os.utime(stale, (time.time() - 3600, time.time() - 3600))
    fresh = tmp_path / ".tmp-seg-00000000000000000003-1-cc.jsonl"
    fresh.touch()  # a live process may be about to lock and rename it
    assert Journal(tmp_path).adopt_dead() == []
    assert sorted(p.name for p in tmp_path.iterdir()) == [fresh.name]


def test_a_live_journal_in_this_process_is_never_adopted(tmp_path: Path, make_row: MakeRow) -> None:
    live = Journal(tmp_path)
    live.append(make_row(1))
    assert Journal(tmp_path).adopt_dead() == []
    live.close()  # row 1 unsettled: its segment stays, unlocked
    heir = Journal(tmp_path)
    assert [r.id for r, _ in heir.adopt_dead()] == ["req-00001"]
    assert Journal(tmp_path).adopt_dead() == []  # claimed: a second heir gets nothing
    heir.close()


_OWNER = textwrap.dedent(
    """
    import sys, time
    from datetime import UTC, datetime
    from decimal import Decimal
    from pathlib import Path
    from freehold.ledger import LedgerRow
    from freehold.ledger.journal import Journal

    journal = Journal(Path(sys.argv[1]), max_segment_rows=2)
    for i in range(5):
        journal.append(LedgerRow(
            id=f"other-{i}", ts=datetime.now(UTC), key_id=None, requested_model="m",
            served_model="m", prompt_tokens=1, completion_tokens=1, cost_usd=Decimal(0),
            latency_ms=1.0, ttft_ms=None, status=200, error_type=None, route="",
            usage_estimated=False, stream=False))
    print("ready", flush=True)
    time.sleep(60)
    """
)


def test_another_live_process_keeps_its_journal_until_it_dies(tmp_path: Path) -> None:
    owner = subprocess.Popen(
        [sys.executable, "-c", _OWNER, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert owner.stdout is not None
        assert owner.stdout.readline().strip() == "ready"
        assert len(segments(tmp_path)) == 3
        assert Journal(tmp_path).adopt_dead() == []  # it is alive: hands off
    finally:
        owner.send_signal(signal.SIGKILL)
        owner.wait(timeout=10)
        if owner.stdout is not None:
            owner.stdout.close()
    heir = Journal(tmp_path)
    adopted = heir.adopt_dead()
    assert [r.id for r, _ in adopted] == [f"other-{i}" for i in range(5)]
    heir.settle(segment for _, segment in adopted)
    assert segments(tmp_path) == []


@pytest.fixture
def store(ledger_store: LedgerStore) -> LedgerStore:
    return ledger_store


def test_the_writer_replays_dead_journals_once_and_never_doubles_a_row(
    store: LedgerStore, tmp_path: Path, make_row: MakeRow
) -> None:
    directory = tmp_path / "journal"
    dead = Journal(directory, max_segment_rows=4)
    rows = [make_row(i) for i in range(10)]
    rows[3] = make_row(3, text=TextRecord("req-00003", "small", "a prompt", "an answer"))
    for row in rows:
        dead.append(row)
    dead.close()  # as a killed process leaves it: every row unsettled
    store.write(rows[:6])  # some had reached the store before the crash
    writer = BatchedWriter(store, journal=Journal(directory))
    writer.record(make_row(10))  # a new row: also written, once
    writer.start()
    assert writer.flush(timeout=10)
    assert [r.id for r in store.rows()] == [r.id for r in [*rows, make_row(10)]]
    assert [t.request_id for t in store.texts()] == ["req-00003"]
    assert writer.stats().replayed == 10
    assert writer.close() is True
    assert list(directory.iterdir()) == []


def test_with_the_journal_off_nothing_is_written_to_disk(tmp_path: Path, make_row: MakeRow) -> None:
    with SqliteStore(tmp_path / "ledger.db") as store:
        store.migrate()
        writer = BatchedWriter(store)
        writer.start()
        writer.record(make_row(1))
        assert writer.close() is True
        assert [r.id for r in store.rows()] == ["req-00001"]
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("ledger.db")) == []
