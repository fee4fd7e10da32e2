package io.moestream.job.cli;

import picocli.CommandLine;

/** Parses "1,2,3" lists given on the command line. */
final class TokenIds {
  private TokenIds() {}

  static int[] parse(String text, String option) {
    String[] parts = text.trim().split("\\s*,\\s*");
    int[] ids = new int[parts.length];
    for (int i = 0; i < parts.length; i++) {
      try {
        ids[i] = Integer.parseInt(parts[i]);
      } catch (NumberFormatException e) {
        throw new CommandLine.ParameterException(new CommandLine(new Object()),
            option + ": '" + parts[i] + "' is not an integer (expected a list such as 1,2,3)");
      }
    }
    return ids;
  }
}
