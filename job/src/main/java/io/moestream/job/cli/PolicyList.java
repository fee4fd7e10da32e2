package io.moestream.job.cli;

import io.moestream.engine.policy.ExpertPolicies;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code --policies}: several expert policies, comma-separated as everywhere on the CLI
 * ({@code full,fixed:4,adaptive}). A policy's own numbers are comma-separated too, so a new policy
 * starts only at a comma followed by a letter: {@code fixed:8,schedule:6,8,8,7,adaptive}. The
 * semicolon bench-ramp used to take ({@code 'full;adaptive'}) is still read; a list that mixes both
 * separators is refused rather than guessed at.
 */
final class PolicyList {
  private PolicyList() {}

  /**
   * The policy specs, each checked to parse.
   *
   * @param option the option's name, for errors
   */
  static List<String> parse(String text, String option) {
    List<String> specs = new ArrayList<>();
    if (text.contains(";")) {
      for (String piece : text.split(";")) {
        List<String> inPiece = splitAtCommas(piece);
        if (inPiece.size() > 1) {
          throw new IllegalArgumentException(option + " '" + text + "': mixes ';' and ',' between policies ('"
              + piece.trim() + "' is " + inPiece.size() + " policies); separate them with commas only, e.g. "
              + String.join(",", inPiece));
        }
        specs.addAll(inPiece);
      }
    } else {
      specs.addAll(splitAtCommas(text));
    }
    if (specs.isEmpty()) {
      throw new IllegalArgumentException(option + ": no expert policy given");
    }
    for (String spec : specs) {
      try {
        ExpertPolicies.parse(spec);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(option + ": " + e.getMessage(), e);
      }
    }
    return specs;
  }

  /** Non-blank pieces of {@code text}, split at each comma that a letter follows. */
  private static List<String> splitAtCommas(String text) {
    List<String> out = new ArrayList<>();
    for (String spec : text.split(",(?=\\s*[A-Za-z])")) {
      if (!spec.isBlank()) {
        out.add(spec.trim());
      }
    }
    return out;
  }
}
