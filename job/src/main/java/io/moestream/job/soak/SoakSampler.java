package io.moestream.job.soak;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.management.GarbageCollectionNotificationInfo;
import io.moestream.job.ramp.JobMetricsSampler;
import io.moestream.job.ramp.RampRun;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.LongSupplier;
import java.util.stream.Collectors;
import javax.management.Notification;
import javax.management.NotificationEmitter;
import javax.management.NotificationListener;
import javax.management.openmbean.CompositeData;

/**
 * Every few seconds: this JVM's heap (the local Flink cluster's TaskManager runs in it), the job's
 * checkpoints and restarts (Flink REST), the inference operator's counters, and what was sent and
 * read back so far.
 *
 * <p>Heap after GC is the heap in use right after the last collection, young or full, as the GC
 * notifications report it. The pools' {@code getCollectionUsage()} is not enough on its own: with the
 * parallel collector the old generation's figure only changes at a full GC, which an hour can go
 * without. Between full GCs the figure climbs with garbage promoted to the old generation and drops
 * at the next full GC, so a leak shows as a rising lower envelope; {@code gcBeforeSample} (a full GC
 * before each reading) measures the live set itself, at the cost of a pause per sample.
 */
final class SoakSampler implements AutoCloseable {
  /**
   * @param heapAfterGcMb heap in use after the last GC (-1 before the first)
   * @param oldAfterFullGcMb the pools' collection usage summed: heap after the last collection of each pool
   * @param requestsIn the inference operator's counter (requests read from Kafka)
   * @param sent good requests and bad records produced so far
   * @param read generations and dead letters read back so far
   */
  record Sample(double atS, double heapAfterGcMb, double heapUsedMb, double oldAfterFullGcMb, long gcs,
      long checkpointsCompleted, long checkpointsFailed, long restarts, long generatedTokens, long requestsIn,
      long inFlight, long sent, long read) {}

  private static final double MB = 1024.0 * 1024.0;

  private final JobMetricsSampler rest;
  private final String jobId;
  private final long startMs;
  private final long periodMs;
  private final boolean gcBeforeSample;
  private final LongSupplier sent;
  private final LongSupplier read;
  private final Set<String> heapPools = ManagementFactory.getMemoryPoolMXBeans().stream()
      .filter(p -> p.getType() == MemoryType.HEAP).map(MemoryPoolMXBean::getName).collect(Collectors.toSet());
  private final NotificationListener gcListener = this::onGc;
  private volatile double heapAfterGc = -1;
  private volatile long gcs;
  private final List<Sample> samples = new ArrayList<>();
  /** Completed checkpoints by id: when each was acknowledged (ms since the epoch). */
  private final TreeMap<Long, Long> completedAt = new TreeMap<>();
  private final Thread thread;
  private volatile boolean running = true;
  private volatile Exception lastFailure;

  SoakSampler(String restBase, String jobId, long startMs, long periodMs, boolean gcBeforeSample, LongSupplier sent,
      LongSupplier read) {
    this.rest = JobMetricsSampler.onDemand(restBase, jobId, startMs);
    this.jobId = jobId;
    this.startMs = startMs;
    this.periodMs = periodMs;
    this.gcBeforeSample = gcBeforeSample;
    this.sent = sent;
    this.read = read;
    for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
      if (gc instanceof NotificationEmitter emitter) {
        emitter.addNotificationListener(gcListener, null, null);
      }
    }
    thread = new Thread(this::loop, "soak-sampler");
    thread.setDaemon(true);
    thread.start();
  }

  private void onGc(Notification n, Object handback) {
    if (!n.getType().equals(GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION)) {
      return;
    }
    var info = GarbageCollectionNotificationInfo.from((CompositeData) n.getUserData());
    long after = 0;
    for (Map.Entry<String, MemoryUsage> e : info.getGcInfo().getMemoryUsageAfterGc().entrySet()) {
      if (heapPools.contains(e.getKey())) {
        after += e.getValue().getUsed();
      }
    }
    heapAfterGc = after / MB;
    gcs++;
  }

  private void loop() {
    long next = System.currentTimeMillis();
    while (running) {
      try {
        Sample s = sample();
        synchronized (samples) {
          samples.add(s);
        }
      } catch (Exception e) {
        lastFailure = e; // a REST hiccup costs one sample, not the soak
      }
      next += periodMs;
      long wait = next - System.currentTimeMillis();
      if (wait > 0) {
        try {
          Thread.sleep(wait);
        } catch (InterruptedException e) {
          return;
        }
      }
    }
  }

  private Sample sample() throws Exception {
    if (gcBeforeSample) {
      System.gc();
    }
    long used = 0;
    long afterCollection = 0;
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      if (pool.getType() == MemoryType.HEAP) {
        used += pool.getUsage().getUsed();
        MemoryUsage collected = pool.getCollectionUsage();
        afterCollection += collected == null ? 0 : collected.getUsed();
      }
    }
    JsonNode checkpoints = rest.rest("/jobs/" + jobId + "/checkpoints");
    synchronized (completedAt) {
      for (JsonNode c : checkpoints.path("history")) {
        if (c.path("status").asText().equals("COMPLETED")) {
          completedAt.put(c.path("id").asLong(), c.path("latest_ack_timestamp").asLong());
        }
      }
    }
    long restarts = -1;
    for (JsonNode m : rest.rest("/jobs/" + jobId + "/metrics?get=numRestarts")) {
      restarts = Math.round(Double.parseDouble(m.path("value").asText("-1")));
    }
    RampRun.Sample op = rest.sampleNow();
    return new Sample((System.currentTimeMillis() - startMs) / 1000.0, heapAfterGc, used / MB, afterCollection / MB,
        gcs, checkpoints.path("counts").path("completed").asLong(), checkpoints.path("counts").path("failed").asLong(),
        restarts, op.generatedTokens(), op.requestsIn(), op.inFlight(), sent.getAsLong(), read.getAsLong());
  }

  /** The inference operator's counters now. */
  RampRun.Sample operatorNow() throws Exception {
    return rest.sampleNow();
  }

  /** The samples so far, in time order. */
  List<Sample> samples() {
    synchronized (samples) {
      return List.copyOf(samples);
    }
  }

  /** When each completed checkpoint seen was acknowledged, by checkpoint id. */
  Map<Long, Long> completedCheckpoints() {
    synchronized (completedAt) {
      return new TreeMap<>(completedAt);
    }
  }

  Exception lastFailure() {
    return lastFailure;
  }

  @Override
  public void close() throws Exception {
    running = false;
    thread.interrupt();
    thread.join(10_000);
    for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
      if (gc instanceof NotificationEmitter emitter) {
        try {
          emitter.removeNotificationListener(gcListener);
        } catch (javax.management.ListenerNotFoundException e) {
          // never added
        }
      }
    }
  }
}
