package io.moestream.operators.metrics;

import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.LongSupplier;
import org.apache.flink.metrics.MetricGroup;

/**
 * Where the inference operator's wall time goes, measured on the task thread: each piece of work is a
 * segment ({@link #begin()} ... {@link #end}) of one {@link Use}; the time between segments is waiting,
 * split by whether the engine had work when the last segment ended (waiting with work: the mailbox
 * ran other mail or input, or the step letter held back for arriving records) or not (waiting for
 * input). The uses add up to the wall time since {@link #WallTime(LongSupplier) construction}.
 *
 * <p>Published as counters of milliseconds per use ({@link Use#metricName}) and the engine's busy share
 * of the last second ({@link MetricNames#ENGINE_BUSY_RATIO}); the reporter threads read them while the
 * task thread writes.
 */
public final class WallTime {
  /** What the task thread spent a stretch of time on. */
  public enum Use {
    /** Inside the engine's step (the forward pass, sampling, KV-cache bookkeeping). */
    ENGINE_STEP(MetricNames.TIME_ENGINE_STEP_MS),
    /** Turning the step's tokens into text and answers: detokenizing, stop strings, deadlines, level. */
    TOKENS(MetricNames.TIME_TOKENS_MS),
    /** Emitting answers downstream, the chained Kafka sink's writer included. */
    EMIT(MetricNames.TIME_EMIT_MS),
    /** Accepting input records: handing requests to the engine. */
    INTAKE(MetricNames.TIME_INTAKE_MS),
    /** Writing the in-flight requests to the checkpoint. */
    SNAPSHOT(MetricNames.TIME_SNAPSHOT_MS),
    /** Between segments while the engine had work: other mail, input, the step letter's hold-back. */
    WAITING_WITH_WORK(MetricNames.TIME_WAITING_WITH_WORK_MS),
    /** Between segments while the engine had nothing to do: waiting for input. */
    WAITING_FOR_INPUT(MetricNames.TIME_WAITING_FOR_INPUT_MS);

    public final String metricName;

    Use(String metricName) {
      this.metricName = metricName;
    }
  }

  private static final long SECOND_NANOS = 1_000_000_000L;

  private final LongSupplier nanoClock;
  private final AtomicLongArray nanos = new AtomicLongArray(Use.values().length);
  private long lastEnd;
  private boolean workPending;
  private long windowStart;
  private long windowEngineNanos;
  private volatile double engineBusyRatio;

  public WallTime(LongSupplier nanoClock) {
    this.nanoClock = nanoClock;
    this.lastEnd = nanoClock.getAsLong();
    this.windowStart = lastEnd;
  }

  /** Counters (ms) per use and the busy-ratio gauge, in {@code group}. */
  public void register(MetricGroup group) {
    for (Use use : Use.values()) {
      group.gauge(use.metricName, () -> millis(use));
    }
    group.gauge(MetricNames.ENGINE_BUSY_RATIO, () -> engineBusyRatio);
  }

  /** Starts a segment: the time since the last one ended is waiting, with or without work. */
  public long begin() {
    long now = nanoClock.getAsLong();
    if (now > lastEnd) {
      nanos.addAndGet((workPending ? Use.WAITING_WITH_WORK : Use.WAITING_FOR_INPUT).ordinal(), now - lastEnd);
      lastEnd = now;
    }
    return now;
  }

  /**
   * Ends the segment begun at {@code begin}.
   *
   * @param engineHasWork whether the engine has work now: the wait until the next segment is counted as such
   */
  public void end(Use use, long begin, boolean engineHasWork) {
    long now = nanoClock.getAsLong();
    nanos.addAndGet(use.ordinal(), now - begin);
    lastEnd = now;
    workPending = engineHasWork;
    roll(now);
  }

  /** Closes the busy-ratio window once a second has passed (also called while idle, from a timer). */
  public void roll(long now) {
    if (now - windowStart >= SECOND_NANOS) {
      long engine = nanos.get(Use.ENGINE_STEP.ordinal());
      engineBusyRatio = (engine - windowEngineNanos) / (double) (now - windowStart);
      windowEngineNanos = engine;
      windowStart = now;
    }
  }

  public long millis(Use use) {
    return nanos.get(use.ordinal()) / 1_000_000;
  }

  public double engineBusyRatio() {
    return engineBusyRatio;
  }
}
