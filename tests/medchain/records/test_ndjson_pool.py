"""NDJSON exports hashed by worker processes: the same hashes in file order as one process, a bad line still
names its file and line, and the pool goes away however the stream ends (done, an error, the consumer
stopping, Ctrl-C)."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from medchain import ndjson
from medchain.errors import InputError

pytestmark = pytest.mark.skipif(
    "fork" not in multiprocessing.get_all_start_methods(), reason="the pool forks its workers"
)


def _export(tmp_path: Path, count: int, bad: int | None = None) -> Path:
    path = tmp_path / "Observation.ndjson"
    with path.open("w") as out:
        for i in range(1, count + 1):
            if i == bad:
                out.write('{"resourceType": "Observation", "id": \n')
            elif i % 1000 == 0:
                out.write("\n")  # blank lines are skipped, numbers still count them
            else:
                value = {"value": 5 + i % 30 / 10, "unit": "mmol/L"}
                out.write(
                    json.dumps({"resourceType": "Observation", "id": f"o{i}", "valueQuantity": value}) + "\n"
                )
    return path


def _children() -> set[int]:
    return {child.pid for child in multiprocessing.active_children()} | _os_children()


def _os_children() -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == os.getpid() and fields[0] != "Z":
                found.add(int(entry.name))
    return found


def test_pool_gives_the_same_hashes_in_file_order(tmp_path: Path) -> None:
    path = _export(tmp_path, 9000)
    before = _children()
    pooled = list(ndjson.resources(path, workers=2))
    assert pooled == list(ndjson.resources(path, workers=1))
    assert [n for n, _ in pooled] == [n for n in range(1, 9001) if n % 1000]
    assert pooled[41][1].source == f"{path} line 42"
    assert _children() <= before  # the workers are gone


def test_pool_names_the_bad_line_and_stops(tmp_path: Path) -> None:
    path = _export(tmp_path, 9000, bad=6543)
    before = _children()
    seen = []
    with pytest.raises(InputError) as err:
        for number, _ in ndjson.resources(path, workers=2):
            seen.append(number)
    assert str(err.value).startswith(f"{path} line 6543: malformed JSON")
    assert "nothing from Observation.ndjson anchored" in str(err.value)
    assert seen[-1] < 6543
    assert _children() <= before


def test_pool_shuts_down_when_the_consumer_stops_early(tmp_path: Path) -> None:
    path = _export(tmp_path, 9000)
    before = _children()
    stream = ndjson.resources(path, workers=2)
    assert next(stream)[0] == 1
    stream.close()
    assert _children() <= before


def test_ctrl_c_ends_a_pooled_run_with_no_worker_left(tmp_path: Path) -> None:
    path = _export(tmp_path, 300_000)
    script = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        from medchain import ndjson
        try:
            for number, _ in ndjson.resources(Path({str(path)!r}), workers=2):
                if number == 1:
                    print("started", flush=True)
        except KeyboardInterrupt:
            print("interrupted", flush=True)
            sys.exit(130)
        print("finished", flush=True)
        """
    )
    command = [sys.executable, "-c", script]
    proc = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "started"
    time.sleep(0.3)  # the pool is working
    workers = {int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit() and _parent(p) == proc.pid}
    os.killpg(proc.pid, signal.SIGINT)  # as a terminal's Ctrl-C does: to the whole process group
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and out.strip() == "interrupted"
    assert "Traceback" not in err, err  # the workers ignore Ctrl-C; the parent ends the pool
    assert workers  # there were workers, and none outlives the run
    assert not [pid for pid in workers if Path(f"/proc/{pid}").exists() and _state(pid) != "Z"]


def _parent(entry: Path) -> int:
    try:
        return int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return -1


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return "gone"
