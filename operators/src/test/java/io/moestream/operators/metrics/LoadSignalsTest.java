package io.moestream.operators.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class LoadSignalsTest {
  private static final long MS = 1_000_000L;
  private static final long T0 = 1_000_000 * MS;

  @Test
  void backpressureIsTotalledAndItsRatioCoversTheLastSecond() {
    LoadSignals load = new LoadSignals(8);
    assertEquals(0.0, load.backpressuredRatio(T0), 1e-9);
    load.backpressured(T0, T0 + 500 * MS);
    assertEquals(500, load.backpressuredMs());
    assertEquals(0.5, load.backpressuredRatio(T0 + 500 * MS), 1e-9);
    load.backpressured(T0 + 600 * MS, T0 + 900 * MS);
    assertEquals(800, load.backpressuredMs());
    assertEquals(0.8, load.backpressuredRatio(T0 + 900 * MS), 1e-9);
    // half a second into the next second, half of the previous second's spell still counts
    assertEquals(0.4, load.backpressuredRatio(T0 + 1_500 * MS), 1e-9);
    assertEquals(0.0, load.backpressuredRatio(T0 + 5_000 * MS), 1e-9, "long idle: nothing recent");
    assertEquals(800, load.backpressuredMs(), "the total never decays");
  }

  @Test
  void consumerLagIsUnknownUntilTheJobProvidesIt() {
    LoadSignals load = new LoadSignals(8);
    assertEquals(-1, load.consumerLag());
    load.consumerLagFrom(new ConsumerLag() {
      @Override
      public long recordsBehind() {
        return 42;
      }

      @Override
      public void close() {}
    });
    assertEquals(42, load.consumerLag());
  }
}
