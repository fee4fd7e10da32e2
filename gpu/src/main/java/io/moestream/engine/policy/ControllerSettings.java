package io.moestream.engine.policy;

/**
 * How an {@link AdaptiveController} turns load signals into a pressure and when it moves. Each signal
 * is scaled so that 1 means "overloaded"; the pressure is the largest of them.
 *
 * @param highWatermark pressure above which, held for {@code dwellDownNanos}, the level steps down
 * @param lowWatermark pressure below which, held for {@code dwellUpNanos}, the level steps back up
 *     (below the high watermark: the band between is the hysteresis)
 * @param dwellDownNanos how long the pressure must stay above the high watermark before each step down
 * @param dwellUpNanos how long it must stay below the low watermark before each step up
 * @param waitingAtFull waiting requests that count as pressure 1
 * @param backpressureAtFull backpressured fraction that counts as pressure 1
 * @param batchFillWeight pressure of a full batch (a full batch with nothing waiting is not overload by
 *     itself: below 1 it holds the level but does not push it down)
 * @param lagAtFull consumer lag that counts as pressure 1 (0: lag ignored)
 */
public record ControllerSettings(
    double highWatermark,
    double lowWatermark,
    long dwellDownNanos,
    long dwellUpNanos,
    double waitingAtFull,
    double backpressureAtFull,
    double batchFillWeight,
    long lagAtFull) implements java.io.Serializable {

  public ControllerSettings {
    if (!(lowWatermark >= 0 && lowWatermark < highWatermark)) {
      throw new IllegalArgumentException("controller: lowWatermark must be in [0, highWatermark), found " + lowWatermark
          + " (highWatermark " + highWatermark + ")");
    }
    if (dwellDownNanos < 0 || dwellUpNanos < 0) {
      throw new IllegalArgumentException("controller: dwell times must be >= 0");
    }
    if (!(waitingAtFull > 0) || !(backpressureAtFull > 0) || batchFillWeight < 0 || lagAtFull < 0) {
      throw new IllegalArgumentException("controller: waitingAtFull and backpressureAtFull must be > 0, "
          + "batchFillWeight and lagAtFull >= 0");
    }
  }

  /** High 1.0, low 0.5, 2 s down, 5 s up; 8 waiting, 50% backpressure = pressure 1; a full batch 0.8. */
  public static ControllerSettings defaults() {
    return new ControllerSettings(1.0, 0.5, 2_000_000_000L, 5_000_000_000L, 8, 0.5, 0.8, 0);
  }

  public ControllerSettings withDwell(long downNanos, long upNanos) {
    return new ControllerSettings(highWatermark, lowWatermark, downNanos, upNanos, waitingAtFull, backpressureAtFull,
        batchFillWeight, lagAtFull);
  }

  public ControllerSettings withWatermarks(double high, double low) {
    return new ControllerSettings(high, low, dwellDownNanos, dwellUpNanos, waitingAtFull, backpressureAtFull,
        batchFillWeight, lagAtFull);
  }

  public ControllerSettings withScales(double waiting, double backpressure, double fillWeight, long lag) {
    return new ControllerSettings(highWatermark, lowWatermark, dwellDownNanos, dwellUpNanos, waiting, backpressure,
        fillWeight, lag);
  }

  /** The signals as one number; 1 = overloaded. */
  public double pressure(LoadSignals s) {
    double p = s.waitingRequests() / waitingAtFull;
    p = Math.max(p, s.backpressuredFraction() / backpressureAtFull);
    p = Math.max(p, s.latencyVsTarget());
    p = Math.max(p, s.batchFill() * batchFillWeight);
    if (lagAtFull > 0 && s.consumerLag() > 0) {
      p = Math.max(p, s.consumerLag() / (double) lagAtFull);
    }
    return p;
  }
}
