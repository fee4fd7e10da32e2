package io.moestream.job.quality;

import java.io.PrintStream;
import java.util.Locale;

/** "label: done/total unit" on stderr every few seconds and once at the end: a full run takes minutes. */
public final class Progress {
  private static final long INTERVAL_NANOS = 5_000_000_000L;

  private final PrintStream err;
  private final String label;
  private final long total;
  private final String unit;
  private final long start = System.nanoTime();
  private long done;
  private long lastPrinted = start;

  /** @param unit what is counted, plural ("items") */
  public Progress(PrintStream err, String label, long total, String unit) {
    this.err = err;
    this.label = label;
    this.total = total;
    this.unit = unit;
  }

  public void advance(long n) {
    done += n;
    long now = System.nanoTime();
    if (now - lastPrinted >= INTERVAL_NANOS) {
      lastPrinted = now;
      print(now);
    }
  }

  public void finish() {
    print(System.nanoTime());
  }

  private void print(long now) {
    err.printf(Locale.ROOT, "bench-quality: %s: %d/%d %s (%.0f s)%n", label, done, total, unit, (now - start) / 1e9);
  }
}
