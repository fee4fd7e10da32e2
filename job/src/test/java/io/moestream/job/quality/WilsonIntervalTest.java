package io.moestream.job.quality;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class WilsonIntervalTest {
  private static final double EPS = 5e-4; // the published values have 3 decimals

  private static void assertInterval(double lo, double hi, WilsonInterval interval) {
    assertEquals(lo, interval.lo(), EPS, "lo of " + interval);
    assertEquals(hi, interval.hi(), EPS, "hi of " + interval);
  }

  @Test
  void matchesPublishedValues() {
    assertInterval(0.490, 0.943, WilsonInterval.of95(8, 10));
    assertInterval(0.404, 0.596, WilsonInterval.of95(50, 100));
    assertInterval(0.0, 0.278, WilsonInterval.of95(0, 10)); // upper bound z^2 / (n + z^2)
    assertInterval(0.722, 1.0, WilsonInterval.of95(10, 10));
  }

  @Test
  void extremesStayInsideTheUnitInterval() {
    assertEquals(0.0, WilsonInterval.of95(0, 1000).lo());
    assertEquals(1.0, WilsonInterval.of95(1000, 1000).hi());
    assertEquals(new WilsonInterval(0, 1), WilsonInterval.of95(0, 0));
  }

  @Test
  void narrowsWithMoreTrials() {
    WilsonInterval small = WilsonInterval.of95(7, 10);
    WilsonInterval large = WilsonInterval.of95(700, 1000);
    assertEquals(true, large.hi() - large.lo() < (small.hi() - small.lo()) / 5);
  }

  @Test
  void refusesMoreSuccessesThanTrials() {
    assertThrows(IllegalArgumentException.class, () -> WilsonInterval.of95(11, 10));
  }
}
