"""Apache Kafka 3.9.1, single-node KRaft, from Maven Central jars, on loopback."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import uuid
from importlib import resources
from pathlib import Path

from pulse.devstack.process import ManagedProcess, port_open, wait_until
from pulse.errors import PulseError
from streams.settings import Settings

KAFKA_VERSION = "3.9.1"
HEALTH_TOPIC = "__pulse_health"


def jar_dir(settings: Settings) -> Path:
    return settings.cache_dir / f"kafka-{KAFKA_VERSION}" / "libs"


def jars_present(settings: Settings) -> bool:
    libs = jar_dir(settings)
    return libs.is_dir() and any(libs.glob("kafka_2.13-*.jar")) and (libs / ".complete").exists()


def require_tool(name: str, package: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise PulseError(f"{name} not found on PATH; install it (Debian: apt-get install {package}) and retry")
    return path


def fetch_jars(settings: Settings) -> Path:
    """Download the broker's jars once with Maven; later calls return the cached folder."""
    libs = jar_dir(settings)
    if jars_present(settings):
        return libs
    mvn = require_tool("mvn", "maven")
    require_tool("java", "openjdk-17-jre-headless")
    libs.mkdir(parents=True, exist_ok=True)
    pom = libs.parent / "pom.xml"
    pom.write_text(resources.files("pulse.devstack").joinpath("kafka-pom.xml").read_text())
    cmd = [mvn, "-B", "-q", "-f", str(pom), "dependency:copy-dependencies",
           "-DincludeScope=runtime", f"-DoutputDirectory={libs}"]
    try:
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=900, check=False)
    except subprocess.TimeoutExpired as exc:
        raise PulseError("downloading the Kafka jars with Maven timed out after 15 min; "
                         "check network access to Maven Central and retry") from exc
    if result.returncode != 0:
        detail = next((ln for ln in result.stdout.splitlines() if "ERROR" in ln), "").strip()
        raise PulseError(f"downloading the Kafka jars with Maven failed: {detail[:200] or 'see mvn output'}; "
                         "check network access to Maven Central and retry")
    (libs / ".complete").write_text(KAFKA_VERSION)
    return libs


def kafka_process(settings: Settings) -> ManagedProcess:
    return ManagedProcess("kafka", settings.data_dir / "run")


def _server_properties(settings: Settings, log_dir: Path) -> str:
    host, port = settings.kafka_first_server
    ctl = settings.dev_kafka_controller_port
    return "\n".join([
        "process.roles=broker,controller",
        "node.id=1",
        f"controller.quorum.voters=1@{host}:{ctl}",
        f"listeners=PLAINTEXT://{host}:{port},CONTROLLER://{host}:{ctl}",
        f"advertised.listeners=PLAINTEXT://{host}:{port}",
        "controller.listener.names=CONTROLLER",
        "inter.broker.listener.name=PLAINTEXT",
        "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        f"log.dirs={log_dir}",
        "num.partitions=6",
        "offsets.topic.replication.factor=1",
        "offsets.topic.num.partitions=12",
        "transaction.state.log.replication.factor=1",
        "transaction.state.log.min.isr=1",
        "group.initial.rebalance.delay.ms=0",
        "auto.create.topics.enable=false",
        "log.retention.hours=168",
        "log.segment.bytes=134217728",
        "message.max.bytes=4194304",
        "",
    ])


def kafka_ready(bootstrap: str) -> bool:
    """True when the broker answers and a topic can be created (or already exists)."""
    from kafka.admin import KafkaAdminClient, NewTopic
    from kafka.errors import KafkaError, TopicAlreadyExistsError

    try:
        admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=3000,
                                 client_id="pulse-dev")
    except (KafkaError, OSError, ValueError):
        return False
    try:
        with contextlib.suppress(TopicAlreadyExistsError):
            admin.create_topics([NewTopic(HEALTH_TOPIC, 1, 1)])
        return HEALTH_TOPIC in admin.list_topics()
    except (KafkaError, OSError):
        return False
    finally:
        admin.close()


def start_kafka(settings: Settings) -> str:
    """Start the broker unless ours already runs; returns a status line."""
    host, port = settings.kafka_first_server
    proc = kafka_process(settings)
    if proc.pid() is not None:
        wait_until(lambda: kafka_ready(settings.kafka_bootstrap), proc, settings.dev_start_timeout_s, "Kafka")
        return f"kafka       already running (pid {proc.pid()}) on {host}:{port}"
    for p, what in ((port, "PULSE_KAFKA_BOOTSTRAP=127.0.0.1:<port>"),
                    (settings.dev_kafka_controller_port, "PULSE_DEV_KAFKA_CONTROLLER_PORT=<port>")):
        if port_open(host, p):
            raise PulseError(f"port {host}:{p} is taken by another process; stop it or set {what}")
    java = require_tool("java", "openjdk-17-jre-headless")
    libs = fetch_jars(settings)
    home = (settings.data_dir / "kafka").resolve()
    log_dir = home / "data"
    home.mkdir(parents=True, exist_ok=True)
    props = home / "server.properties"
    props.write_text(_server_properties(settings, log_dir))
    log4j = home / "log4j.properties"
    log4j.write_text(resources.files("pulse.devstack").joinpath("kafka-log4j.properties").read_text())
    classpath = f"{libs.resolve()}/*"
    base = [java, "-cp", classpath, f"-Dlog4j.configuration=file:{log4j}"]
    if not (log_dir / "meta.properties").exists():
        cluster_id = _random_cluster_id()
        fmt = subprocess.run([*base, "kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", str(props)],
                             capture_output=True, text=True, timeout=120, check=False)
        if fmt.returncode != 0:
            raise PulseError(f"formatting Kafka storage failed: {(fmt.stderr or fmt.stdout).strip()[-200:]}")
    pid = proc.start([java, "-Xms256m", "-Xmx768m", "-XX:+UseG1GC", "-Djava.awt.headless=true",
                      "-cp", classpath, f"-Dlog4j.configuration=file:{log4j}",
                      f"-Dkafka.logs.dir={home / 'logs'}", "kafka.Kafka", str(props)], cwd=home)
    wait_until(lambda: kafka_ready(settings.kafka_bootstrap), proc, settings.dev_start_timeout_s, "Kafka")
    return f"kafka       started (pid {pid}) on {host}:{port}, data in {log_dir}"


def _random_cluster_id() -> str:
    # Same format as `StorageTool random-uuid`: 16 random bytes, URL-safe base64 without padding —
    # and, as Kafka's own Uuid.randomUuid, never starting with "-": the storage tool's argument
    # parser takes such an id for an option (1 start in 64 failed to format, seen in CI).
    import base64

    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


def kafka_status(settings: Settings) -> tuple[bool, str]:
    host, port = settings.kafka_first_server
    pid = kafka_process(settings).pid()
    if pid is None:
        extra = " (but something else answers on that port)" if port_open(host, port) else ""
        return False, f"kafka       stopped{extra}"
    state = "ready" if kafka_ready(settings.kafka_bootstrap) else "starting or unhealthy"
    return True, f"kafka       running (pid {pid}) on {host}:{port}, {state}"
