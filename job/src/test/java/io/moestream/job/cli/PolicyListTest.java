package io.moestream.job.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

class PolicyListTest {
  @Test
  void commasSeparatePoliciesWhereALetterFollows() {
    assertEquals(List.of("fixed:8", "schedule:6,8,8,7", "threshold:2,0.5", "adaptive:fixed:8|fixed:4", "full"),
        PolicyList.parse("fixed:8,schedule:6,8,8,7, threshold:2,0.5,adaptive:fixed:8|fixed:4,full", "--policies"));
  }

  @Test
  void theOldSemicolonListIsRead() {
    assertEquals(List.of("full", "adaptive"), PolicyList.parse("full;adaptive", "--policies"));
    assertEquals(List.of("schedule:6,8,8,7", "batch:2,0.5"), PolicyList.parse("schedule:6,8,8,7; batch:2,0.5", "x"));
  }

  @Test
  void mixedSeparatorsAreRefusedWithTheCommaForm() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> PolicyList.parse("full;fixed:4,adaptive", "--policies"));
    assertEquals("--policies 'full;fixed:4,adaptive': mixes ';' and ',' between policies ('fixed:4,adaptive' is 2"
        + " policies); separate them with commas only, e.g. fixed:4,adaptive", e.getMessage());
  }

  @Test
  void aBadPolicyIsNamedWithTheOption() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> PolicyList.parse("full,fixed:x", "--policies"));
    assertEquals("--policies: policy 'fixed:x': not a number (For input string: \"x\")", e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> PolicyList.parse(" , ", "--policies"));
  }
}
