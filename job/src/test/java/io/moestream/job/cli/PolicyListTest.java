package io.moestream.job.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.moestream.engine.policy.ExpertPolicy;
import java.util.List;
import org.junit.jupiter.api.Test;

class PolicyListTest {
  private static List<String> specs(String text) {
    return PolicyList.parse(text, "--policies").stream().map(ExpertPolicy::spec).toList();
  }

  @Test
  void commasSeparatePoliciesWhereALetterFollows() {
    assertEquals(List.of("fixed:8", "schedule:6,8,8,7", "threshold:2,0.5", "adaptive:fixed:8|fixed:4", "full"),
        specs("fixed:8,schedule:6,8,8,7, threshold:2,0.5,adaptive:fixed:8|fixed:4,full"));
  }

  @Test
  void theOldSemicolonListIsRead() {
    assertEquals(List.of("full", "adaptive"), specs("full;adaptive"));
    assertEquals(List.of("schedule:6,8,8,7", "batch:2,0.5"), specs("schedule:6,8,8,7; batch:2,0.5;"));
  }

  @Test
  void mixedSeparatorsAreRefusedWithTheCommaForm() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> specs("full;fixed:4,adaptive"));
    assertEquals("--policies: 'full;fixed:4,adaptive' mixes ';' and ',' between policies ('fixed:4,adaptive' is 2"
        + " policies); separate them with commas only: full,fixed:4,adaptive", e.getMessage());
  }

  @Test
  void aBadPolicyIsNamedWithTheOption() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> specs("full,fixed:x"));
    assertEquals("--policies: policy 'fixed:x': not a number (For input string: \"x\")", e.getMessage());
    assertEquals("--policies: no expert policy given",
        assertThrows(IllegalArgumentException.class, () -> specs(" ; ")).getMessage());
  }
}
