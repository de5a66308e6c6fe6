"""bench/'s readers: /proc (harness.py), callgrind's dumps (cpu.py), the load's CPU figures."""

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


@linux_only
def test_machine_cpu_counts_a_busy_loop_as_busy() -> None:
    busy, total = harness.machine_cpu()
    assert 0 < busy <= total
    spent = time.process_time()
    while time.process_time() - spent < 0.3:  # this process keeps one core busy
        pass
    busy_after, total_after = harness.machine_cpu()
    assert busy_after - busy >= 0.2  # at least most of our own 0.3 s (ticks are 10 ms)
    assert total_after - total >= busy_after - busy - 1e-6  # equal when every core was busy


def test_load_rows_say_the_server_cpu_a_request_and_the_cores_busy() -> None:
    load_bench = load("load")
    run_all = load("run_all")
    spent = {"server": 1.5, "client": 0.1, "busy": 3.0, "total": 4.0}
    per = load_bench.per_request(spent, 1000)
    assert per["server_cpu_ms"] == pytest.approx(1.5)
    assert per["client_cpu_ms"] == pytest.approx(0.1)
    assert per["busy_cores"] == pytest.approx(0.75 * (os.cpu_count() or 1))
    base = {"p50_ms": 10.0, "p99_ms": 50.0, "errors": 0, "busy_cores": 1.9}
    results = {
        "bare": base | {"rps": 1000.0, "server_cpu_ms": 1.5},
        "home": base | {"rps": 250.0, "server_cpu_ms": 6.0},
    }
    rows = {key: run_all.load_row({"results": results, "clients": 50}, key, key) for key in results}
    assert "server CPU 1.50 ms a request, 1.90 cores busy" in rows["bare"][1]
    assert "0.25x bare" in rows["home"][1]
    assert "server CPU 6.00 ms a request = 4.0x bare, 1.90 cores busy" in rows["home"][1]
    assert rows["home"][3] != "met"  # 1/4 of the bare endpoint's throughput


@linux_only
def test_named_cpu_counts_every_process_of_that_command() -> None:
    name = Path("/proc/self/comm").read_text().strip()  # this interpreter's, as stat has it
    spent = time.process_time()
    while time.process_time() - spent < 0.2:
        pass
    assert harness.named_cpu(name) >= time.process_time() - 0.05  # this process at least
    assert harness.named_cpu("no-such-command-here") == 0


def test_load_rows_name_the_database_servers_cpu_when_there_is_one() -> None:
    run_all = load("run_all")
    base = {"p50_ms": 10.0, "p99_ms": 50.0, "errors": 0, "busy_cores": 1.9}
    results = {
        "bare": base | {"rps": 600.0, "server_cpu_ms": 2.4, "database_cpu_ms": 0.5},
        "home": base | {"rps": 120.0, "server_cpu_ms": 7.3, "database_cpu_ms": 4.1},
    }
    row = run_all.load_row({"results": results, "clients": 50}, "home", "home")
    assert "server CPU 7.30 ms a request = 3.0x bare, database 4.10 ms, 1.90 cores busy" in row[1]


def test_explain_pages_refuses_a_database_that_is_not_postgresql(tmp_path: Path) -> None:
    script = Path(__file__).resolve().parent.parent / "bench" / "explain_pages.py"
    done = subprocess.run(  # noqa: S603 - this interpreter, the project's own script
        [sys.executable, str(script), "--database-url", f"sqlite:///{tmp_path / 'x.sqlite3'}"],
        capture_output=True,
        text=True,
        check=False,
        cwd=script.parent,
    )
    assert done.returncode == 2, done.stderr
    assert "PostgreSQL" in done.stderr


@linux_only
def test_connections_per_worker_counts_the_accepted_connections_each_process_holds() -> None:
    import socket  # noqa: PLC0415 - this test's alone

    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    # A child that connects three times and holds on: its sockets' local port is not
    # the server's, so it holds none of the server's connections.
    script = (
        "import socket, sys, time\n"
        f"s = [socket.create_connection(('127.0.0.1', {port})) for _ in range(3)]\n"
        "print('ready', flush=True)\ntime.sleep(30)\n"
    )
    holder = subprocess.Popen(  # noqa: S603
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        text=True,
    )
    accepted = []
    try:
        accepted = [listener.accept()[0] for _ in range(3)]
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "ready"
        assert harness.connections_per_worker([os.getpid(), holder.pid], port) == [3, 0]
        accepted.pop().close()
        assert harness.connections_per_worker([os.getpid(), holder.pid], port) == [2, 0]
        # The listening socket is no connection: another port's count is nought.
        assert harness.connections_per_worker([os.getpid()], port + 1 if port < 65535 else 1) == [0]
    finally:
        holder.kill()
        holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()
        for conn in accepted:
            conn.close()
        listener.close()


def test_load_rows_say_how_the_connections_were_split() -> None:
    run_all = load("run_all")
    base = {"p50_ms": 10.0, "p99_ms": 50.0, "errors": 0, "busy_cores": 1.9}
    results = {
        "bare": base | {"rps": 1000.0, "server_cpu_ms": 1.5, "splits": [[25, 25], [50, 0]]},
        "home": base | {"rps": 350.0, "server_cpu_ms": 4.5, "splits": [[25, 25]]},
    }
    rows = {key: run_all.load_row({"results": results, "clients": 50}, key, key) for key in results}
    assert rows["bare"][1].endswith("connections per worker 25/25 and 50/0")
    assert rows["home"][1].endswith("connections per worker 25/25")
    notes = run_all.load_notes({"clients": 50, "threads": 4, "worker_connections": 25})
    assert "each worker holding 25 of them at most" in notes[0]
