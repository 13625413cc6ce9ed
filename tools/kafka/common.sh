# Shared by tools/kafka/start, stop, start-cluster, stop-cluster and node
# (sourced, not run): where the broker jars are, how a broker JVM is started,
# when it counts as ready, and how it is stopped.
#
# A broker directory ("node dir") holds server.properties, data/,
# broker.log and broker.pid; every function below takes one.

kafka_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
kafka_jars="$kafka_dir/target/dependency"

# Messages go to stderr: stdout carries only the bootstrap address.
log() { echo "kafka/$(basename "$0"): $*" >&2; }

# The jars come from Maven Central via pom.xml; resolve them only when missing
# so a warm checkout starts without touching the network.
kafka_ensure_jars() {
  if ! compgen -G "$kafka_jars/kafka_2.13-*.jar" >/dev/null; then
    log "broker jars missing; running: mvn -q -B dependency:copy-dependencies (in $kafka_dir)"
    # Maven's output (and its ANSI codes, which -B alone does not stop)
    # goes to stderr.
    (cd "$kafka_dir" && mvn -q -B -Dstyle.color=never dependency:copy-dependencies) >&2
  fi
}

# True when something already listens on 127.0.0.1:$1.
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# kafka_format NODE_DIR CLUSTER_ID [StorageTool format flags...]
kafka_format() {
  local dir="$1" cluster_id="$2"
  shift 2
  java -cp "$kafka_jars/*" -Dlog4j2.configurationFile="$kafka_dir/log4j2.yaml" \
    kafka.tools.StorageTool format "$@" -t "$cluster_id" \
    -c "$dir/server.properties" >"$dir/format.log" 2>&1 || {
    log "storage format failed ($dir):"
    cat "$dir/format.log" >&2
    return 1
  }
}

kafka_random_cluster_id() { java -cp "$kafka_jars/*" kafka.tools.StorageTool random-uuid; }

# kafka_launch NODE_DIR [JVM heap flags...]: starts the broker in the
# background and writes broker.pid. setsid: the broker outlives the caller
# and is not killed along with the caller's process group; stop kills it by
# pid. No stdout/stderr is inherited, so a caller reading this script's
# stdout through a pipe sees its end when the script exits.
kafka_launch() {
  local dir="$1"
  shift
  local heap=("$@")
  ((${#heap[@]})) || heap=(-Xms256m -Xmx512m)
  setsid java "${heap[@]}" -XX:+UseSerialGC -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$kafka_dir/log4j2.yaml" \
    -cp "$kafka_jars/*" kafka.Kafka "$dir/server.properties" \
    >"$dir/broker.log" 2>&1 </dev/null &
  echo $! >"$dir/broker.pid"
}

# True when process $1 runs (a zombie, dead but not yet reaped by whoever
# inherited it, does not count).
pid_alive() {
  local state
  state="$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null)"
  [[ -n $state && $state != Z ]]
}

# True when NODE_DIR's broker.pid names a live broker of that directory
# (after a reboot the number may belong to an unrelated process).
kafka_running() {
  local dir="$1" pid
  [[ -f "$dir/broker.pid" ]] || return 1
  pid="$(cat "$dir/broker.pid")"
  pid_alive "$pid" &&
    grep -q "$dir/server.properties" "/proc/$pid/cmdline" 2>/dev/null
}

# kafka_await_ready NODE_DIR PORT TIMEOUT_S: ready = the broker logged that
# it started AND the client port accepts connections; the log line alone
# comes before the listener is reachable on some versions, the port alone
# before the controller elected itself. In KRaft "Kafka Server started"
# also means the broker registered and was unfenced. Kills the broker and
# fails when it does not get there.
kafka_await_ready() {
  local dir="$1" port="$2" timeout_s="$3"
  local deadline=$((SECONDS + timeout_s)) pid
  pid="$(cat "$dir/broker.pid")"
  until grep -q "Kafka Server started" "$dir/broker.log" && port_busy "$port"; do
    if ! pid_alive "$pid"; then
      log "broker exited during startup ($dir); log tail:"
      tail -n 50 "$dir/broker.log" >&2
      return 1
    fi
    if ((SECONDS >= deadline)); then
      log "broker not ready after ${timeout_s}s ($dir); log tail:"
      tail -n 50 "$dir/broker.log" >&2
      kill "$pid" 2>/dev/null || true
      return 1
    fi
    sleep 0.5
  done
}

# kafka_stop NODE_DIR [WAIT_S]: SIGTERM (a controlled shutdown), SIGKILL
# after WAIT_S seconds (30). Nothing running is not an error.
kafka_stop() {
  local dir="$1" wait_s="${2:-30}" pid
  kafka_running "$dir" || return 0
  pid="$(cat "$dir/broker.pid")"
  log "stopping broker pid $pid"
  kill -TERM "$pid" 2>/dev/null || true
  local i
  for ((i = 0; i < wait_s * 2; ++i)); do
    pid_alive "$pid" || return 0
    sleep 0.5
  done
  log "broker still running after ${wait_s}s; sending KILL"
  kafka_kill "$dir"
}

# kafka_kill NODE_DIR: SIGKILL (no shutdown at all, as a crashed machine)
# and waits until the process is gone. Nothing running is not an error.
kafka_kill() {
  local dir="$1" pid
  kafka_running "$dir" || return 0
  pid="$(cat "$dir/broker.pid")"
  kill -KILL "$pid" 2>/dev/null || true
  local i
  for ((i = 0; i < 100; ++i)); do
    pid_alive "$pid" || return 0
    sleep 0.1
  done
  log "broker pid $pid survived SIGKILL for 10s"
  return 1
}

# kafka_live_brokers BOOTSTRAP: how many brokers the cluster's metadata
# lists (DescribeCluster, through kafka.admin.ConfigCommand: the one admin
# tool in the broker jars); 0 when it cannot be asked.
kafka_live_brokers() {
  java -cp "$kafka_jars/*" -Dlog4j2.configurationFile="$kafka_dir/log4j2.yaml" \
    kafka.admin.ConfigCommand --bootstrap-server "$1" --entity-type brokers \
    --describe 2>/dev/null | grep -c '^Dynamic configs for broker [0-9]' || true
}
