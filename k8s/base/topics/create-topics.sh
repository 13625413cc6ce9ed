#!/bin/sh
# Creates lotledger's topics, idempotently (--if-not-exists), and checks that
# existing ones have the partitions and retention lotledger depends on.
# Runs in the apache/kafka image (Kubernetes Job, deploy/compose.yaml).
#   LOTLEDGER_KAFKA_BOOTSTRAP            host:port,...
#   LOTLEDGER_PARTITIONS                 partitions per topic (fixed forever)
#   LOTLEDGER_KAFKA_REPLICATION_FACTOR   replication.factor (3 in prod)
#   LOTLEDGER_KAFKA_MIN_INSYNC_REPLICAS  min.insync.replicas (2 in prod)
#   LOTLEDGER_TOPIC_PREFIX               optional prefix of every topic
#   LOTLEDGER_TOPICS                     owning services, e.g. "lots quality"
#   KAFKA_CLIENT_CONFIG                  optional Java client properties
#                                        (security.protocol, sasl.jaas.config)
set -eu
: "${LOTLEDGER_KAFKA_BOOTSTRAP:?}" "${LOTLEDGER_PARTITIONS:?}"
: "${LOTLEDGER_KAFKA_REPLICATION_FACTOR:?}" "${LOTLEDGER_KAFKA_MIN_INSYNC_REPLICAS:?}"
: "${LOTLEDGER_TOPICS:?}"
bin=/opt/kafka/bin
set -- --bootstrap-server "$LOTLEDGER_KAFKA_BOOTSTRAP"
if [ -n "${KAFKA_CLIENT_CONFIG:-}" ] && [ -s "$KAFKA_CLIENT_CONFIG" ]; then
  set -- "$@" --command-config "$KAFKA_CLIENT_CONFIG"
fi

for service in $LOTLEDGER_TOPICS; do
  topic="${LOTLEDGER_TOPIC_PREFIX:-}lotledger.$service.v1"
  echo "create-topics: $topic (partitions=$LOTLEDGER_PARTITIONS" \
    "replication.factor=$LOTLEDGER_KAFKA_REPLICATION_FACTOR" \
    "min.insync.replicas=$LOTLEDGER_KAFKA_MIN_INSYNC_REPLICAS retention.ms=-1)"
  # The log is the system of record: keep every event forever.
  "$bin/kafka-topics.sh" "$@" --create --if-not-exists --topic "$topic" \
    --partitions "$LOTLEDGER_PARTITIONS" \
    --replication-factor "$LOTLEDGER_KAFKA_REPLICATION_FACTOR" \
    --config "min.insync.replicas=$LOTLEDGER_KAFKA_MIN_INSYNC_REPLICAS" \
    --config retention.ms=-1 \
    --config retention.bytes=-1 \
    --config cleanup.policy=delete
  # An existing topic is left as it is: refuse one that would break us.
  desc=$("$bin/kafka-topics.sh" "$@" --describe --topic "$topic")
  have=$(printf '%s\n' "$desc" | grep -c 'Partition: ' || true)
  if [ "$have" -ne "$LOTLEDGER_PARTITIONS" ]; then
    echo "create-topics: $topic has $have partitions, LOTLEDGER_PARTITIONS" \
      "says $LOTLEDGER_PARTITIONS; partitions are fixed once created" >&2
    exit 1
  fi
  if ! printf '%s\n' "$desc" | grep -q 'retention.ms=-1'; then
    echo "create-topics: $topic does not keep events forever" \
      "(retention.ms != -1); fix it with kafka-configs.sh --alter" >&2
    exit 1
  fi
done
echo "create-topics: done"
