package io.moestream.engine.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The controller's transitions on scripted load traces, with the clock injected (100 ms ticks). */
class AdaptiveControllerTest {
  private static final long MS = 1_000_000L;
  private static final LoadSignals OVERLOAD = new LoadSignals(16, 32, 1.0, 0.0, 0.0, -1); // 16 waiting: pressure 2
  private static final LoadSignals BUSY = new LoadSignals(0, 28, 0.875, 0.0, 0.0, -1); // full-ish batch: 0.7
  private static final LoadSignals LIGHT = new LoadSignals(0, 2, 0.0625, 0.0, 0.0, -1); // 0.05

  /** Default settings: down after 2 s above 1.0, up after 5 s below 0.5. */
  private static AdaptiveController controller(int levels) {
    return new AdaptiveController(levels, ControllerSettings.defaults());
  }

  /** Runs {@code signals} from {@code fromMs} to {@code toMs} (exclusive), one update per 100 ms. */
  private static List<Integer> run(AdaptiveController c, long fromMs, long toMs, LoadSignals signals) {
    List<Integer> levels = new ArrayList<>();
    for (long t = fromMs; t < toMs; t += 100) {
      levels.add(c.update(t * MS, signals));
    }
    return levels;
  }

  @Test
  void noLoadIsTheFullModel() {
    AdaptiveController c = controller(3);
    assertEquals(List.of(0), run(c, 0, 60_000, LoadSignals.IDLE).stream().distinct().toList());
    assertEquals(0, c.transitions());
  }

  @Test
  void stepsDownUnderSustainedLoadAndBackUpWhenLight() {
    AdaptiveController c = controller(3);
    run(c, 0, 3_000, LIGHT);
    List<Integer> overload = run(c, 3_000, 10_000, OVERLOAD);
    assertEquals(0, overload.get(19)); // 4.9 s: 1.9 s above the watermark
    assertEquals(1, overload.get(20)); // 5.0 s: 2 s above -> one level down
    assertEquals(1, overload.get(39)); // a full dwell again before the next step
    assertEquals(2, overload.get(40)); // 7.0 s
    assertEquals(2, overload.get(overload.size() - 1)); // the last level is a floor
    // Between the watermarks the level holds.
    assertEquals(List.of(2), run(c, 10_000, 12_000, BUSY).stream().distinct().toList());
    List<Integer> light = run(c, 12_000, 25_000, LIGHT);
    assertEquals(2, light.get(49)); // 16.9 s
    assertEquals(1, light.get(50)); // 17.0 s: 5 s below the low watermark
    assertEquals(0, light.get(100)); // 22.0 s
    assertEquals(0, light.get(light.size() - 1));
    assertEquals(4, c.transitions());
  }

  @Test
  void loadOscillatingFasterThanTheDwellNeverMovesIt() {
    AdaptiveController c = controller(3);
    for (int cycle = 0; cycle < 30; cycle++) { // 1.5 s overloaded, 1.5 s light, for 90 s
      long start = cycle * 3_000L;
      run(c, start, start + 1_500, OVERLOAD);
      run(c, start + 1_500, start + 3_000, LIGHT);
    }
    assertEquals(0, c.transitions());
    assertEquals(0, c.level());
  }

  @Test
  void noFlappingAtTheLevelBelowEither() {
    AdaptiveController c = controller(3);
    run(c, 0, 2_000, OVERLOAD); // 1.9 s above the watermark: still level 0
    assertEquals(1, c.update(2_000 * MS, OVERLOAD));
    // Then alternate overload / light every 100 ms for a minute: hold level 1.
    for (long t = 2_100; t < 62_000; t += 100) {
      assertEquals(1, c.update(t * MS, (t / 100) % 2 == 0 ? OVERLOAD : LIGHT), "at " + t + " ms");
    }
    assertEquals(1, c.transitions());
  }

  @Test
  void everySignalCanCarryThePressure() {
    ControllerSettings s = ControllerSettings.defaults().withScales(8, 0.5, 0.8, 1000);
    assertEquals(0.5, s.pressure(new LoadSignals(4, 0, 0, 0, 0, -1)), 1e-9);
    assertEquals(1.2, s.pressure(new LoadSignals(0, 0, 0, 0.6, 0, -1)), 1e-9);
    assertEquals(1.5, s.pressure(new LoadSignals(0, 0, 0, 0, 1.5, -1)), 1e-9);
    assertEquals(0.8, s.pressure(new LoadSignals(0, 8, 1.0, 0, 0, -1)), 1e-9);
    assertEquals(3.0, s.pressure(new LoadSignals(0, 0, 0, 0, 0, 3000)), 1e-9);
    assertEquals(0.0, ControllerSettings.defaults().pressure(new LoadSignals(0, 0, 0, 0, 0, 3000)), 1e-9);
  }
}
