package io.moestream.operators.metrics;

import org.apache.flink.metrics.MetricGroup;

/**
 * The load the inference operator is under, gathered in one place: what the expert-activation
 * policy decides from and what the metrics show. Written by the task thread only; gauges read
 * plain fields (a metric reporter may see a value one step old, which is fine).
 *
 * <p>Consumer lag comes from a {@link ConsumerLag} when the job provides one (the Kafka source also
 * reports its own view as {@code pendingRecords}).
 */
public final class LoadSignals {
  private volatile int waitingRequests;
  private volatile int runningBatchSize;
  private volatile int inFlightRequests;
  private final int maxInFlightRequests;
  private volatile long backpressuredNanos;
  private volatile int kvFreeBlocks;
  private volatile int kvTotalBlocks;
  private final BackpressureWindow window = new BackpressureWindow();
  private volatile ConsumerLag consumerLag;

  public LoadSignals(int maxInFlightRequests) {
    this.maxInFlightRequests = maxInFlightRequests;
  }

  /** Registers every signal as a gauge of {@code group}. */
  public void register(MetricGroup group) {
    group.gauge(MetricNames.WAITING_REQUESTS, () -> waitingRequests);
    group.gauge(MetricNames.RUNNING_BATCH_SIZE, () -> runningBatchSize);
    group.gauge(MetricNames.IN_FLIGHT_REQUESTS, () -> inFlightRequests);
    group.gauge(MetricNames.MAX_IN_FLIGHT_REQUESTS, () -> maxInFlightRequests);
    group.gauge(MetricNames.BACKPRESSURED_TIME_MS, () -> backpressuredNanos / 1_000_000);
    group.gauge(MetricNames.BACKPRESSURED_RATIO, () -> window.ratio(System.nanoTime()));
    group.gauge(MetricNames.KV_FREE_BLOCKS, () -> kvFreeBlocks);
    group.gauge(MetricNames.KV_USED_BLOCKS, () -> kvTotalBlocks - kvFreeBlocks);
    group.gauge(MetricNames.KV_TOTAL_BLOCKS, () -> kvTotalBlocks);
    group.gauge(MetricNames.CONSUMER_LAG, this::consumerLag);
  }

  /** Where {@link #consumerLag()} reads from; null: unknown. */
  public void consumerLagFrom(ConsumerLag lag) {
    this.consumerLag = lag;
  }

  /** Records behind on the input topic, or -1 when the job cannot tell. */
  public long consumerLag() {
    ConsumerLag lag = consumerLag;
    return lag == null ? -1 : lag.recordsBehind();
  }

  public void update(int waiting, int running, int inFlight, int freeBlocks) {
    this.waitingRequests = waiting;
    this.runningBatchSize = running;
    this.inFlightRequests = inFlight;
    this.kvFreeBlocks = freeBlocks;
  }

  public void kvTotalBlocks(int blocks) {
    this.kvTotalBlocks = blocks;
  }

  /**
   * The signals as the engine's adaptive controller takes them (no Flink types there).
   *
   * @param latencyVsTarget time per output token over its target; 0 when there is no target
   */
  public io.moestream.engine.policy.LoadSignals forController(long nowNanos, double latencyVsTarget) {
    double fill = maxInFlightRequests == 0 ? 0 : inFlightRequests / (double) maxInFlightRequests;
    return new io.moestream.engine.policy.LoadSignals(waitingRequests, runningBatchSize, fill,
        backpressuredRatio(nowNanos), latencyVsTarget, consumerLag());
  }

  /** Adds a spell of refusing input that ran from {@code startNanos} to {@code endNanos}. */
  public void backpressured(long startNanos, long endNanos) {
    backpressuredNanos += endNanos - startNanos;
    window.add(startNanos, endNanos);
  }

  public int waitingRequests() {
    return waitingRequests;
  }

  public int runningBatchSize() {
    return runningBatchSize;
  }

  public int inFlightRequests() {
    return inFlightRequests;
  }

  public int maxInFlightRequests() {
    return maxInFlightRequests;
  }

  public long backpressuredMs() {
    return backpressuredNanos / 1_000_000;
  }

  /** Share of the last second spent refusing input. */
  public double backpressuredRatio(long nowNanos) {
    return window.ratio(nowNanos);
  }

  public int kvFreeBlocks() {
    return kvFreeBlocks;
  }

  /** Backpressured time over a sliding one-second window, kept as one-second buckets. */
  static final class BackpressureWindow {
    private static final long SECOND = 1_000_000_000L;
    private long bucketStart;
    private long current;
    private long previous;

    synchronized void add(long startNanos, long endNanos) {
      roll(endNanos);
      current += endNanos - startNanos;
    }

    synchronized double ratio(long nowNanos) {
      roll(nowNanos);
      double elapsed = (double) (nowNanos - bucketStart) / SECOND;
      double weighted = current + previous * (1 - elapsed);
      return Math.min(1.0, weighted / SECOND);
    }

    private void roll(long now) {
      if (bucketStart == 0) {
        bucketStart = now;
      }
      while (now - bucketStart >= SECOND) {
        previous = current;
        current = 0;
        bucketStart += SECOND;
        if (now - bucketStart >= SECOND) {
          previous = 0;
          bucketStart = now - (now - bucketStart) % SECOND;
        }
      }
    }
  }
}
