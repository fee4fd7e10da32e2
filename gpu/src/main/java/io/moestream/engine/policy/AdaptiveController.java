package io.moestream.engine.policy;

/**
 * Moves between expert-activation levels (0 = full quality, higher = fewer experts) from load signals.
 * Pure: the caller passes the time with every update, so a test drives it with a scripted trace.
 *
 * <p>Steps down one level when the pressure stays above the high watermark for the down dwell, and
 * back up one when it stays below the low watermark for the up dwell. Pressure between the two
 * watermarks holds the level and restarts both timers, and every move restarts them too, so a load
 * that oscillates faster than the dwell never moves the level (no flapping). It starts at level 0:
 * with no load it is exactly the full model.
 *
 * <p>Not thread-safe: one thread (the operator's task thread) updates it.
 */
public final class AdaptiveController {
  private final int numLevels;
  private final ControllerSettings settings;
  private int level;
  private long aboveSince = Long.MIN_VALUE; // MIN_VALUE: not above the high watermark
  private long belowSince = Long.MIN_VALUE;
  private double lastPressure;
  private long transitions;

  public AdaptiveController(int numLevels, ControllerSettings settings) {
    if (numLevels < 1) {
      throw new IllegalArgumentException("controller needs at least one level, found " + numLevels);
    }
    this.numLevels = numLevels;
    this.settings = settings;
  }

  /**
   * Takes the signals measured at {@code nowNanos} (any monotonic clock, e.g. System.nanoTime) and
   * returns the level to run at from now on.
   */
  public int update(long nowNanos, LoadSignals signals) {
    double pressure = settings.pressure(signals);
    lastPressure = pressure;
    if (pressure > settings.highWatermark()) {
      belowSince = Long.MIN_VALUE;
      if (aboveSince == Long.MIN_VALUE) {
        aboveSince = nowNanos;
      }
      if (level < numLevels - 1 && nowNanos - aboveSince >= settings.dwellDownNanos()) {
        level++;
        transitions++;
        aboveSince = nowNanos;
      }
    } else if (pressure < settings.lowWatermark()) {
      aboveSince = Long.MIN_VALUE;
      if (belowSince == Long.MIN_VALUE) {
        belowSince = nowNanos;
      }
      if (level > 0 && nowNanos - belowSince >= settings.dwellUpNanos()) {
        level--;
        transitions++;
        belowSince = nowNanos;
      }
    } else {
      aboveSince = Long.MIN_VALUE;
      belowSince = Long.MIN_VALUE;
    }
    return level;
  }

  /** The current level, 0 = full quality. */
  public int level() {
    return level;
  }

  public int numLevels() {
    return numLevels;
  }

  /** The pressure computed at the last update. */
  public double lastPressure() {
    return lastPressure;
  }

  /** Level changes so far. */
  public long transitions() {
    return transitions;
  }

  public ControllerSettings settings() {
    return settings;
  }
}
