package io.moestream.job.cli;

import io.moestream.engine.policy.ExpertPolicies;
import io.moestream.engine.policy.ExpertPolicy;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * {@code --policies}: several expert policies, comma-separated as everywhere on the CLI
 * ({@code full,fixed:4,adaptive}; {@link ExpertPolicies#parseList}: a new policy starts only at a comma
 * followed by a letter, since a policy's own numbers are comma-separated too). The semicolon bench-ramp
 * used to take ({@code 'full;adaptive'}) is still read; a list that mixes both separators between
 * policies is refused rather than guessed at.
 */
final class PolicyList {
  private PolicyList() {}

  /**
   * The policies, in the order given.
   *
   * @param option the option's name, for errors
   */
  static List<ExpertPolicy> parse(String text, String option) {
    try {
      if (!text.contains(";")) {
        return ExpertPolicies.parseList(text);
      }
      List<ExpertPolicy> policies = new ArrayList<>();
      String mixed = null;
      for (String piece : text.split(";")) {
        if (piece.isBlank()) {
          continue;
        }
        List<ExpertPolicy> inPiece = ExpertPolicies.parseList(piece);
        if (inPiece.size() > 1 && mixed == null) {
          mixed = "'" + piece.trim() + "' is " + inPiece.size() + " policies";
        }
        policies.addAll(inPiece);
      }
      if (mixed != null) {
        throw new IllegalArgumentException("'" + text + "' mixes ';' and ',' between policies (" + mixed
            + "); separate them with commas only: "
            + policies.stream().map(ExpertPolicy::spec).collect(Collectors.joining(",")));
      }
      if (policies.isEmpty()) {
        throw new IllegalArgumentException("no expert policy given");
      }
      return policies;
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(option + ": " + e.getMessage(), e);
    }
  }
}
