# The Kafka backend of EventLog (librdkafka) and its tests. Included from
# libs/eventlog/CMakeLists.txt; kept in its own file so the Kafka parts have
# one owner and the rest of the module builds without reading them.
#
# The code uses librdkafka's C API (rdkafka++ has no Admin API), so it links
# rdkafka itself: rdkafka++.pc lists it only as Requires.private.
pkg_check_modules(RDKAFKA_C REQUIRED IMPORTED_TARGET rdkafka>=2.0)

add_library(lotledger_eventlog_kafka STATIC kafka/kafka_event_log.cc
  kafka/appender.cc kafka/conf.cc kafka/errors.cc kafka/reader.cc
  kafka/writer_lease.cc)
target_link_libraries(lotledger_eventlog_kafka
  PUBLIC lotledger_common absl::status absl::statusor absl::strings
         absl::time absl::synchronization absl::flat_hash_map
  PRIVATE PkgConfig::RDKAFKA_C Threads::Threads lotledger_metrics)

# Both need a broker: LOTLEDGER_TEST_KAFKA=127.0.0.1:PORT (tools/kafka/start).
# Without one they fail, never skip, so a CI run cannot pass by accident.
lotledger_test(eventlog_kafka_test integration
  SOURCES tests/kafka_event_log_test.cc tests/kafka_test_env.cc
  LIBS lotledger_eventlog_kafka)

if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/tests/conformance.h)
  lotledger_test(eventlog_kafka_conformance_test integration
    SOURCES tests/kafka_conformance_test.cc tests/kafka_test_env.cc
    LIBS lotledger_eventlog_kafka lotledger_eventlog_conformance)
endif()
