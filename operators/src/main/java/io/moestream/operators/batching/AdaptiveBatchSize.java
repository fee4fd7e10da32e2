package io.moestream.operators.batching;

/**
 * The batch size that fits the traffic: the number of requests expected to arrive within half the
 * latency budget, from a moving average of the gaps between arrivals. Light traffic (gaps longer
 * than half the budget) gives 1, so a lone request leaves at once; a queue building up upstream
 * (requests arriving back to back) grows it up to the maximum. The batcher's timer bounds the wait
 * either way.
 */
public final class AdaptiveBatchSize {
  /** Weight of the newest gap in the moving average. */
  static final double ALPHA = 0.2;

  private final BatchingSettings settings;
  private double meanGapMs = Double.NaN;
  private long lastArrivalMs = Long.MIN_VALUE;

  public AdaptiveBatchSize(BatchingSettings settings) {
    this.settings = settings;
  }

  public void onArrival(long nowMs) {
    if (lastArrivalMs != Long.MIN_VALUE) {
      double gap = Math.max(0, nowMs - lastArrivalMs);
      meanGapMs = Double.isNaN(meanGapMs) ? gap : ALPHA * gap + (1 - ALPHA) * meanGapMs;
    }
    lastArrivalMs = nowMs;
  }

  /** Requests to collect before a batch leaves. */
  public int target() {
    if (Double.isNaN(meanGapMs) || settings.latencyBudgetMs() == 0) {
      return 1;
    }
    double expected = (settings.latencyBudgetMs() / 2.0) / Math.max(meanGapMs, 0.01);
    return (int) Math.max(1, Math.min(settings.maxBatchSize(), Math.floor(expected)));
  }
}
