package io.moestream.job.ramp;

import io.moestream.job.quality.WilsonInterval;

/**
 * Exact-match accuracy: {@code correct} of {@code scored} answers, with the Wilson score interval at
 * 95%. Wilson rather than the normal approximation because phases hold few answers and accuracies sit
 * near 0 or 1, where p +- z*sqrt(p(1-p)/n) collapses to a zero-width interval or leaves [0, 1].
 *
 */
record Accuracy(int correct, int scored) {
  /** The standard normal quantile of 0.975. */
  static final double Z95 = WilsonInterval.Z95;

  static final Accuracy NONE = new Accuracy(0, 0);

  Accuracy {
    if (scored < 0 || correct < 0 || correct > scored) {
      throw new IllegalArgumentException("accuracy: correct " + correct + " of " + scored + " scored");
    }
  }

  /**
   * Whether {@code generated} answers {@code expected}: the generated text with leading and trailing
   * whitespace removed equals the expected answer exactly (case and inner spacing count).
   */
  static boolean isCorrect(String generated, String expected) {
    return generated.strip().equals(expected);
  }

  /** This accuracy with one more answer scored. */
  Accuracy plus(boolean answeredCorrectly) {
    return new Accuracy(correct + (answeredCorrectly ? 1 : 0), scored + 1);
  }

  /** correct / scored; NaN when nothing was scored. */
  double rate() {
    return scored == 0 ? Double.NaN : (double) correct / scored;
  }

  /** Lower end of the Wilson 95% interval; NaN when nothing was scored. */
  double wilsonLow() {
    return wilson(-1);
  }

  /** Upper end of the Wilson 95% interval; NaN when nothing was scored. */
  double wilsonHigh() {
    return wilson(1);
  }

  private double wilson(int sign) {
    if (scored == 0) {
      return Double.NaN;
    }
    WilsonInterval interval = WilsonInterval.of95(correct, scored);
    return sign < 0 ? interval.lo() : interval.hi();
  }
}
