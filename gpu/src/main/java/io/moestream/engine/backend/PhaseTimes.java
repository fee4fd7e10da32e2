package io.moestream.engine.backend;

import java.util.Locale;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Wall time a backend spent in each phase of its steps, for `bench-decode --profile`: where a step's
 * time goes (attention, MoE, LM head) tells whether it is bound by weights, attention or overhead.
 */
public final class PhaseTimes {
  public enum Phase { EMBED_AND_NORMS, ATTENTION, ROUTER, EXPERTS, DENSE_MLP, LM_HEAD }

  private final AtomicLongArray nanos = new AtomicLongArray(Phase.values().length);

  public void add(Phase phase, long elapsedNanos) {
    nanos.addAndGet(phase.ordinal(), elapsedNanos);
  }

  public long nanos(Phase phase) {
    return nanos.get(phase.ordinal());
  }

  public void reset() {
    for (int i = 0; i < nanos.length(); i++) {
      nanos.set(i, 0);
    }
  }

  /** One line: each phase's share of the total and its milliseconds. */
  public String summary() {
    long total = 0;
    for (int i = 0; i < nanos.length(); i++) {
      total += nanos.get(i);
    }
    StringBuilder out = new StringBuilder();
    for (Phase phase : Phase.values()) {
      long n = nanos(phase);
      if (n > 0) {
        out.append(String.format(Locale.ROOT, "%s %.1f%% (%.1f ms)  ", phase.name().toLowerCase(Locale.ROOT),
            100.0 * n / Math.max(1, total), n / 1e6));
      }
    }
    return out.toString().trim();
  }
}
