package io.moestream.engine.cuda;

import java.util.ArrayList;
import java.util.List;

/**
 * Releases device resources best-effort: every step runs even when one before it failed (after a sticky
 * error each cuMemFree fails too, yet the context reset that follows must still happen), and no failure of
 * the release hides the error that led to it. Pure: the steps are whatever the caller passes.
 */
final class ReleaseSteps {
  /** One release action, named for the error message. */
  record Step(String name, Action action) {}

  /** A release that may throw anything a driver call throws. */
  interface Action {
    void run() throws Exception;
  }

  private ReleaseSteps() {}

  /**
   * Runs every step, in order.
   *
   * @param original the error being handled (its suppressed list receives each release failure), or null
   *     on a normal close
   * @return the failures, in order (empty when all succeeded)
   */
  static List<Throwable> run(List<Step> steps, Throwable original) {
    List<Throwable> failures = new ArrayList<>();
    for (Step step : steps) {
      try {
        step.action().run();
      } catch (Exception | LinkageError e) {
        RuntimeException named = new IllegalStateException("releasing " + step.name() + " failed: " + e, e);
        failures.add(named);
        if (original != null && original != e) {
          original.addSuppressed(named);
        }
      }
    }
    return failures;
  }
}
