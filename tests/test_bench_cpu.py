"""bench/'s readers: /proc/<pid>/stat and a process's children (harness.py), callgrind's dumps (cpu.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from bench_modules import load

cpu = load("cpu")
harness = load("harness")

linux_only = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")


def test_parse_stat_counts_fields_after_the_last_parenthesis() -> None:
    # A command name with spaces and parentheses, as gunicorn's workers have.
    fields = ["S", "4242", *["0"] * 9, "1234", "56", *["0"] * 30]
    text = "777 (gunicorn: worker [bench_app:app) (x)) " + " ".join(fields) + "\n"
    assert harness.parse_stat(text) == (4242, 1234, 56)


@linux_only
def test_parse_stat_of_this_process() -> None:
    ppid, utime, stime = harness.parse_stat(Path("/proc/self/stat").read_text())
    assert ppid == os.getppid()
    spent = time.process_time()  # this process's own user + system time
    assert abs((utime + stime) / harness.CLOCK_TICKS - spent) < 0.5


@linux_only
def test_process_cpu_counts_a_childs_busy_loop_not_its_sleep() -> None:
    busy = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.3: pass\n"
    sleeper = subprocess.Popen([sys.executable, "-c", busy + "time.sleep(30)"])  # noqa: S603
    try:
        # Found among this process's children (the suite may have started others: a
        # server, a browser; the fresh-clone CI run had one).
        assert sleeper.pid in harness.children(os.getpid())
        deadline = time.monotonic() + 20
        while harness.process_cpu(sleeper.pid) < 0.3 and time.monotonic() < deadline:
            time.sleep(0.05)
        first = harness.process_cpu(sleeper.pid)
        time.sleep(0.5)
        assert 0.3 <= first < 2
        assert harness.process_cpu(sleeper.pid) - first < 0.05
    finally:
        sleeper.kill()
        sleeper.wait()


def test_read_dumps_divides_each_pages_instructions_by_its_requests(tmp_path: Path) -> None:
    def dump(name: str, trigger: str, total: int) -> None:
        (tmp_path / name).write_text(
            f"# callgrind format\nversion: 1\ncreator: callgrind-3.19.0\npid: 9\ncmd: python\n"
            f"part: 1\n\ndesc: I1 cache: \ndesc: Timerange: Basic block 0 - 10\n"
            f"desc: Trigger: {trigger}\n\npositions: line\nevents: Ir\n"
            f"summary: {total}\n\n\nfn=(1) main\n0 {total}\n\ntotals: {total}\n"
        )

    dump("callgrind.out.9.1", "Client Request: bare", 3_000_000)
    dump("callgrind.out.9.2", "Client Request: home", 40_000_000)
    dump("callgrind.out.9", "Program termination", 123)
    found = cpu.read_dumps(tmp_path, {"bare": 10, "home": 20})
    assert found == {"bare": 300_000, "home": 2_000_000}
    with pytest.raises(RuntimeError, match="module"):
        cpu.read_dumps(tmp_path, {"bare": 10, "module": 20})
