package io.moestream.job.corpus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moestream.operators.codec.UnsetSampling;
import io.moestream.schemas.Sampling;
import org.junit.jupiter.api.Test;

/** Text lines' sampling options: left out = unset in the request (-1), given = explicit, negative refused. */
class PromptDefaultsTest {
  @Test
  void optionsLeftOutAreUnsetInTheRequest() {
    Sampling unset = PromptDefaults.schemaDefaults().request("a.txt:1", "hi").getSampling();
    assertNull(UnsetSampling.temperature(unset));
    assertNull(UnsetSampling.topP(unset));
    assertNull(UnsetSampling.topK(unset));
    assertEquals(Sampling.newBuilder().build(), unset);
    Sampling given = new PromptDefaults(8, 0f, 1f, 0, 5L).request("a.txt:1", "hi").getSampling();
    assertEquals(0f, UnsetSampling.temperature(given));
    assertEquals(1f, UnsetSampling.topP(given));
    assertEquals(0, UnsetSampling.topK(given));
    assertEquals(5L, given.getSeed());
  }

  @Test
  void negativeOptionsAreRefusedNotReadAsUnset() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new PromptDefaults(8, -1f, null, null, 0L));
    assertTrue(e.getMessage().startsWith("temperature: must be >= 0"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> new PromptDefaults(8, null, -1f, null, 0L));
    assertTrue(e.getMessage().startsWith("top_p: must be in (0, 1]"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> new PromptDefaults(8, null, null, -1, 0L));
    assertTrue(e.getMessage().startsWith("top_k: must be >= 0"), e.getMessage());
  }
}
