package io.moestream.operators.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.moestream.operators.metrics.WallTime.Use;
import org.junit.jupiter.api.Test;

/** Segments and the waits between them add up to the wall time, each in its use. */
class WallTimeTest {
  private long nowMs;

  private long nanos() {
    return nowMs * 1_000_000;
  }

  @Test
  void segmentsAndWaitsAddUp() {
    WallTime time = new WallTime(this::nanos);
    nowMs = 100; // nothing pending since construction: waiting for input
    long t = time.begin();
    nowMs = 130;
    time.end(Use.INTAKE, t, true);
    nowMs = 135; // work pending: waiting with work
    t = time.begin();
    nowMs = 935;
    time.end(Use.ENGINE_STEP, t, true);
    t = time.begin();
    nowMs = 945;
    time.end(Use.EMIT, t, false);
    nowMs = 1500; // nothing pending: waiting for input
    t = time.begin();
    nowMs = 1510;
    time.end(Use.SNAPSHOT, t, false);

    assertEquals(100 + 555, time.millis(Use.WAITING_FOR_INPUT));
    assertEquals(5, time.millis(Use.WAITING_WITH_WORK));
    assertEquals(30, time.millis(Use.INTAKE));
    assertEquals(800, time.millis(Use.ENGINE_STEP));
    assertEquals(10, time.millis(Use.EMIT));
    assertEquals(10, time.millis(Use.SNAPSHOT));
    long sum = 0;
    for (Use use : Use.values()) {
      sum += time.millis(use);
    }
    assertEquals(1510, sum, "the uses add up to the wall time");
    // the first window closed at 1500 ms... at the first end() past one second: 800 ms engine in 1510 ms
    assertEquals(800 / 1510.0, time.engineBusyRatio(), 1e-9);
  }
}
