package io.moestream.operators.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.moestream.engine.policy.ControllerSettings;
import io.moestream.operators.metrics.LoadSignals;
import org.junit.jupiter.api.Test;

/** The operator's adaptive budget on a scripted load trace (100 ms admissions, injected clock). */
class AdaptiveExpertBudgetTest {
  private static final long MS = 1_000_000L;

  @Test
  void fullWhenLightFewerUnderOverloadAndBack() {
    AdaptiveExpertBudget budget = AdaptiveExpertBudget.defaults(); // 8, 6, 4 for a top-8 model
    LoadSignals load = new LoadSignals(32);
    long t = 1_000 * MS;
    load.update(0, 1, 1, 100);
    for (int i = 0; i < 50; i++, t += 100 * MS) {
      assertEquals(8, budget.expertsPerToken(load, 8, t));
    }
    load.update(20, 32, 32, 0); // 20 waiting: pressure 2.5
    int k = 8;
    for (int i = 0; i < 50; i++, t += 100 * MS) {
      k = budget.expertsPerToken(load, 8, t);
      if (i == 19) {
        assertEquals(8, k); // 1.9 s above the watermark
      }
      if (i == 20) {
        assertEquals(6, k); // 2 s: one level down
      }
    }
    assertEquals(4, k);
    assertEquals(2, budget.level());
    load.update(0, 2, 2, 100);
    for (int i = 0; i < 120; i++, t += 100 * MS) {
      k = budget.expertsPerToken(load, 8, t);
    }
    assertEquals(8, k);
  }

  @Test
  void customLevelsAreCheckedAndCappedByTheModel() {
    assertThrows(IllegalArgumentException.class, () -> new AdaptiveExpertBudget(new int[] {4, 6},
        ControllerSettings.defaults()));
    AdaptiveExpertBudget budget = new AdaptiveExpertBudget(new int[] {10, 2}, ControllerSettings.defaults());
    assertEquals(6, budget.expertsPerToken(new LoadSignals(4), 6, 0));
  }
}
