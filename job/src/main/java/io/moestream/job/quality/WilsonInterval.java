package io.moestream.job.quality;

/**
 * The Wilson score interval of a proportion: unlike the normal approximation it stays inside [0, 1]
 * and is not empty at 0 or n successes, which small task sets and weak models hit all the time.
 */
public record WilsonInterval(double lo, double hi) {
  /** The two-sided 95% normal quantile. */
  public static final double Z95 = 1.959963984540054;

  /** The 95% interval of {@code successes} out of {@code trials}; [0, 1] when there are no trials. */
  public static WilsonInterval of95(long successes, long trials) {
    return of(successes, trials, Z95);
  }

  public static WilsonInterval of(long successes, long trials, double z) {
    if (successes < 0 || successes > trials) {
      throw new IllegalArgumentException("successes must be in [0, " + trials + "], found " + successes);
    }
    if (trials == 0) {
      return new WilsonInterval(0, 1);
    }
    double n = trials;
    double p = successes / n;
    double z2 = z * z;
    double denominator = 1 + z2 / n;
    double center = (p + z2 / (2 * n)) / denominator;
    double half = z * Math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denominator;
    // at 0 or n successes that bound is exactly 0 or 1, which the subtraction misses by rounding
    return new WilsonInterval(successes == 0 ? 0 : Math.max(0, center - half),
        successes == trials ? 1 : Math.min(1, center + half));
  }
}
