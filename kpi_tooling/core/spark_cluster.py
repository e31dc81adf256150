"""A Spark standalone cluster on this machine, from the PySpark installation (no download).

``python -m kpi_tooling.core.spark_cluster start --dir DIR`` starts a master and N workers
(``bin/spark-class org.apache.spark.deploy.master.Master`` / ``...worker.Worker``: the pip
PySpark has no ``sbin/start-master.sh``), waits until every worker has registered, writes their
pids and logs under DIR and prints the master URL (``spark://127.0.0.1:7077``). ``stop --dir
DIR`` stops them. dbt reaches the cluster through the `spark` target's ``spark.master``
(env OUTPUT_KPIS_SPARK_MASTER; profiles.example.yml): the driver runs in dbt's process, the
executors on the workers. Used by tests/python/test_spark_cluster.py and `make
spark-cluster-up` / `spark-cluster-down`; docs/ENGINES.md tells how to point dbt at a cluster
of your own instead.

Exit codes: 0 done, 2 Java or PySpark missing, or the cluster did not come up in time.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from kpi_tooling.errors import SetupError

EXIT_OK, EXIT_SETUP = 0, 2
HOST = "127.0.0.1"
MASTER_PORT, MASTER_UI_PORT, WORKER_UI_PORT = 7077, 8090, 8091
MASTER_CLASS = "org.apache.spark.deploy.master.Master"
WORKER_CLASS = "org.apache.spark.deploy.worker.Worker"


def free_port() -> int:
    """A TCP port nothing listens on now (the kernel's pick)."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


@dataclass
class Cluster:
    """The master and its workers; a port of 0 is replaced by a free one at start (tests run
    beside other clusters), and worker_ui_ports lists the workers' web UI ports."""

    directory: Path
    workers: int = 2
    worker_cores: int = 1
    worker_memory: str = "2g"
    master_port: int = MASTER_PORT
    master_ui_port: int = MASTER_UI_PORT
    worker_ui_ports: list[int] = field(default_factory=list)

    @property
    def master_url(self) -> str:
        return f"spark://{HOST}:{self.master_port}"

    @property
    def state_url(self) -> str:
        return f"http://{HOST}:{self.master_ui_port}/json/"

    def state(self) -> dict | None:
        """The master's state (its web UI's JSON: workers, applications), None when down."""
        try:
            with urllib.request.urlopen(self.state_url, timeout=2) as response:
                return json.loads(response.read())
        except OSError:
            return None

    def alive_workers(self) -> int:
        state = self.state()
        return 0 if state is None else int(state.get("aliveworkers", 0))


def spark_home() -> Path:
    try:
        import pyspark
    except ImportError as exc:
        raise SetupError("PySpark is not installed here (make spark-venv)") from exc
    return Path(pyspark.__file__).resolve().parent


def _spawn(cluster: Cluster, name: str, args: list[str]) -> int:
    log = (cluster.directory / f"{name}.log").open("ab")
    env = {
        **os.environ,
        "SPARK_HOME": str(spark_home()),
        "SPARK_LOCAL_IP": HOST,
        "SPARK_NO_DAEMONIZE": "1",
    }
    process = subprocess.Popen(
        [str(spark_home() / "bin" / "spark-class"), *args],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        start_new_session=True,
    )
    (cluster.directory / f"{name}.pid").write_text(str(process.pid))
    return process.pid


def start(cluster: Cluster, timeout: float = 90.0) -> str:
    """Start the master and the workers; return the master URL once every worker is alive."""
    if subprocess.run(["java", "-version"], capture_output=True, check=False).returncode != 0:
        raise SetupError("Spark needs Java 17 (java not found)")
    if cluster.state() is not None:
        raise SetupError(f"a Spark master already answers on {cluster.state_url}; stop it first")
    cluster.directory.mkdir(parents=True, exist_ok=True)
    cluster.master_port = cluster.master_port or free_port()
    cluster.master_ui_port = cluster.master_ui_port or free_port()
    if not cluster.worker_ui_ports:
        cluster.worker_ui_ports = [WORKER_UI_PORT + number for number in range(cluster.workers)]
    cluster.worker_ui_ports = [port or free_port() for port in cluster.worker_ui_ports]
    _spawn(
        cluster,
        "master",
        [
            MASTER_CLASS,
            "--host", HOST,
            "--port", str(cluster.master_port),
            "--webui-port", str(cluster.master_ui_port),
        ],
    )  # fmt: skip
    for number in range(1, cluster.workers + 1):
        work = cluster.directory / f"worker-{number}"
        work.mkdir(exist_ok=True)
        _spawn(
            cluster,
            f"worker-{number}",
            [
                WORKER_CLASS,
                "--host", HOST,
                "--cores", str(cluster.worker_cores),
                "--memory", cluster.worker_memory,
                "--webui-port", str(cluster.worker_ui_ports[number - 1]),
                "--work-dir", str(work),
                cluster.master_url,
            ],
        )  # fmt: skip
    deadline = time.monotonic() + timeout
    while cluster.alive_workers() < cluster.workers:
        if time.monotonic() > deadline:
            stop(cluster)
            raise SetupError(
                f"the Spark cluster did not come up in {timeout:.0f} s "
                f"(logs in {cluster.directory})"
            )
        time.sleep(1)
    return cluster.master_url


def stop(cluster: Cluster) -> int:
    """Stop every process `start` recorded under the directory; the number stopped."""
    stopped = 0
    for pid_file in sorted(cluster.directory.glob("*.pid")):
        pid = int(pid_file.read_text())
        try:
            os.killpg(pid, signal.SIGTERM)
            stopped += 1
        except ProcessLookupError:
            pass
        pid_file.unlink()
    deadline = time.monotonic() + 30
    while cluster.state() is not None and time.monotonic() < deadline:
        time.sleep(0.5)
    return stopped


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m kpi_tooling.core.spark_cluster",
        description="Start or stop a Spark standalone master and workers on this machine.",
    )
    parser.add_argument("action", choices=["start", "stop"])
    parser.add_argument("--dir", type=Path, required=True, help="pids and logs")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker-memory", default="2g")
    args = parser.parse_args(argv)
    cluster = Cluster(args.dir, workers=args.workers, worker_memory=args.worker_memory)
    try:
        if args.action == "start":
            print(start(cluster))
        else:
            print(f"stopped {stop(cluster)} processes")
    except SetupError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return EXIT_SETUP
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
