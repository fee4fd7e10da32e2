package io.moestream.operators.inference;

/** Finds stop strings in text that grows at the end. */
final class StopStrings {
  private StopStrings() {}

  /**
   * The earliest start of any stop string that ends after {@code newFrom} (text before it was
   * searched already), or -1.
   */
  static int firstMatch(CharSequence text, String[] stops, int newFrom) {
    if (stops == null || stops.length == 0) {
      return -1;
    }
    String s = text.toString();
    int best = -1;
    for (String stop : stops) {
      int from = Math.max(0, newFrom - stop.length() + 1);
      int at = s.indexOf(stop, from);
      if (at >= 0 && (best < 0 || at < best)) {
        best = at;
      }
    }
    return best;
  }
}
