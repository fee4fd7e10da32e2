package io.moestream.engine.policy;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Policy names, as in the job's configuration and on every command:
 * <ul>
 *   <li>{@code full} (the model's own k everywhere)
 *   <li>{@code fixed:K}
 *   <li>{@code schedule:B,H,E,P}
 *   <li>{@code threshold:KMIN,T}
 *   <li>{@code batch:KMIN,T} (batch-aware: see {@link BatchAwarePolicy})
 *   <li>{@code adaptive} or {@code adaptive:LEVEL|LEVEL|...}
 * </ul>
 */
public final class ExpertPolicies {
  private ExpertPolicies() {}

  public static ExpertPolicy parse(String spec) {
    String s = spec.trim();
    int colon = s.indexOf(':');
    String name = (colon < 0 ? s : s.substring(0, colon)).toLowerCase(Locale.ROOT);
    String args = colon < 0 ? "" : s.substring(colon + 1);
    try {
      switch (name) {
        case "full" -> {
          if (!args.isBlank()) {
            throw new IllegalArgumentException("policy '" + spec + "': full takes no arguments");
          }
          return new FullPolicy();
        }
        case "fixed" -> {
          return new FixedPolicy(ints(args, 1, spec)[0]);
        }
        case "schedule" -> {
          int[] v = ints(args, 4, spec);
          return new SchedulePolicy(v[0], v[1], v[2], v[3]);
        }
        case "threshold", "batch" -> {
          String[] parts = args.split(",", -1);
          if (parts.length != 2) {
            throw new IllegalArgumentException("policy '" + spec + "': expected " + name + ":KMIN,T");
          }
          int minK = Integer.parseInt(parts[0].trim());
          double ratio = Double.parseDouble(parts[1].trim());
          return name.equals("threshold") ? new ThresholdPolicy(minK, ratio) : new BatchAwarePolicy(minK, ratio);
        }
        case "adaptive" -> {
          List<ExpertPolicy> levels = new ArrayList<>();
          if (!args.isBlank()) {
            for (String level : args.split("\\|")) {
              levels.add(parse(level));
            }
          }
          return new AdaptivePolicy(levels);
        }
        default -> throw new IllegalArgumentException("unknown expert policy '" + spec
            + "' (expected full, fixed:K, schedule:B,H,E,P, threshold:KMIN,T, batch:KMIN,T or adaptive[:L1|L2|...])");
      }
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("policy '" + spec + "': not a number (" + e.getMessage() + ")");
    }
  }

  /**
   * A comma-separated list of policies. Commas also separate a policy's own numbers, so a new policy
   * starts only at a comma followed by a letter: {@code fixed:8,schedule:6,8,8,7,adaptive}.
   */
  public static List<ExpertPolicy> parseList(String specs) {
    List<ExpertPolicy> out = new ArrayList<>();
    for (String spec : specs.split(",(?=\\s*[A-Za-z])")) {
      if (!spec.isBlank()) {
        out.add(parse(spec));
      }
    }
    if (out.isEmpty()) {
      throw new IllegalArgumentException("no expert policy given");
    }
    return out;
  }

  private static int[] ints(String args, int n, String spec) {
    String[] parts = args.split(",", -1);
    if (parts.length != n || args.isBlank()) {
      throw new IllegalArgumentException("policy '" + spec + "': expected " + n + " integer" + (n == 1 ? "" : "s"));
    }
    int[] v = new int[n];
    for (int i = 0; i < n; i++) {
      v[i] = Integer.parseInt(parts[i].trim());
    }
    return v;
  }

  /** A ratio as written in a spec: no trailing zeros. */
  static String number(double v) {
    String s = Double.toString(v);
    return s.endsWith(".0") ? s.substring(0, s.length() - 2) : s;
  }
}
