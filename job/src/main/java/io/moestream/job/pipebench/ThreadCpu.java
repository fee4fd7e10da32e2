package io.moestream.job.pipebench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * CPU time of this process by thread between two readings: what, besides the engine, the cores went to
 * while a run lasted (the in-process broker, Flink, the Kafka clients, the JVM's own GC and JIT threads,
 * which are not Java threads and show as the rest of the process's time).
 */
final class ThreadCpu {
  private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

  /** CPU ns by thread id, with names, and the whole process's CPU ns at the reading. */
  record Reading(Map<Long, Long> cpuNanos, Map<Long, String> names, long processNanos) {}

  private ThreadCpu() {}

  static Reading read() {
    Map<Long, Long> cpu = new HashMap<>();
    Map<Long, String> names = new HashMap<>();
    if (THREADS.isThreadCpuTimeSupported()) {
      for (ThreadInfo info : THREADS.getThreadInfo(THREADS.getAllThreadIds())) {
        if (info == null) {
          continue;
        }
        long ns = THREADS.getThreadCpuTime(info.getThreadId());
        if (ns >= 0) {
          cpu.put(info.getThreadId(), ns);
          names.put(info.getThreadId(), info.getThreadName());
        }
      }
    }
    long process = ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os
        ? os.getProcessCpuTime() : -1;
    return new Reading(cpu, names, process);
  }

  /** CPU seconds between the readings by thread group, largest first, plus the process's rest. */
  static Map<String, Double> byGroup(Reading before, Reading after) {
    Map<String, Double> groups = new HashMap<>();
    double threadsTotal = 0;
    for (Map.Entry<Long, Long> e : after.cpuNanos().entrySet()) {
      long ns = e.getValue() - before.cpuNanos().getOrDefault(e.getKey(), 0L);
      if (ns <= 0) {
        continue;
      }
      groups.merge(group(after.names().get(e.getKey())), ns / 1e9, Double::sum);
      threadsTotal += ns / 1e9;
    }
    if (after.processNanos() >= 0 && before.processNanos() >= 0) {
      double rest = (after.processNanos() - before.processNanos()) / 1e9 - threadsTotal;
      groups.put("JVM (GC, JIT) and threads that ended", Math.max(0, rest));
    }
    Map<String, Double> sorted = new LinkedHashMap<>();
    groups.entrySet().stream().sorted((a, b) -> Double.compare(b.getValue(), a.getValue()))
        .forEach(e -> sorted.put(e.getKey(), e.getValue()));
    return sorted;
  }

  /** A thread's group, from the names the engine, Flink, Kafka and the JDK give their threads. */
  static String group(String name) {
    String n = name.toLowerCase(Locale.ROOT);
    if (n.startsWith("moestream-cpu-")) {
      return "engine workers";
    }
    if (n.contains("moe inference") || n.equals("main")) {
      return "inference task thread (engine, and the operators chained with it) / main";
    }
    if (n.contains("kafka-producer-network-thread") || n.contains("source data fetcher")
        || n.contains("kafka-consumer") || n.contains("ramp-producer") || n.contains("adminclient")) {
      return "Kafka clients (source fetcher, sink and benchmark producers)";
    }
    if (n.contains("kafka") || n.contains("broker") || n.contains("controller") || n.contains("raft")
        || n.contains("data-plane") || n.contains("log-cleaner") || n.contains("replica") || n.contains("quorum")
        || n.contains("request-handler") || n.contains("transaction") || n.contains("group-coordinator")) {
      return "Kafka broker (in this process)";
    }
    if (n.contains("flink") || n.contains("pekko") || n.contains("netty") || n.contains("outputflusher")
        || n.contains("checkpoint") || n.contains("jobmanager") || n.contains("taskmanager") || n.contains("mailbox")
        || n.contains("(1/") || n.contains("metrics") || n.contains("rest") || n.contains("timer")) {
      return "Flink (runtime, other tasks, checkpoints, REST)";
    }
    return "other: " + name.replaceAll("[0-9]+", "N");
  }
}
