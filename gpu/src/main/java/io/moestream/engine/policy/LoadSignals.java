package io.moestream.engine.policy;

/**
 * The load a serving engine is under at one moment, as the streaming operator measures it. Plain
 * values, no Flink types: the operator fills one per step (or per timer tick) and hands it to an
 * {@link AdaptiveController}.
 *
 * @param waitingRequests requests accepted but not yet running (queued in the engine or operator)
 * @param runningBatchSize sequences in the engine's running batch
 * @param batchFill running batch over its capacity, in [0, 1]
 * @param backpressuredFraction share of recent wall time spent refusing input, in [0, 1]
 * @param latencyVsTarget observed latency over its target (1 = on target); 0 when there is no target
 * @param consumerLag records waiting in the source (Kafka consumer lag); negative when unknown
 */
public record LoadSignals(
    int waitingRequests,
    int runningBatchSize,
    double batchFill,
    double backpressuredFraction,
    double latencyVsTarget,
    long consumerLag) {

  /** No load at all. */
  public static final LoadSignals IDLE = new LoadSignals(0, 0, 0, 0, 0, -1);

  public LoadSignals {
    if (waitingRequests < 0 || runningBatchSize < 0) {
      throw new IllegalArgumentException("waiting and running counts must be >= 0, found " + waitingRequests + ", "
          + runningBatchSize);
    }
    if (!(batchFill >= 0) || !(backpressuredFraction >= 0) || !(latencyVsTarget >= 0)) {
      throw new IllegalArgumentException("batchFill, backpressuredFraction and latencyVsTarget must be >= 0 (found "
          + batchFill + ", " + backpressuredFraction + ", " + latencyVsTarget + ")");
    }
  }
}
