package io.moestream.engine.plan;

/** A model that does not fit the machine, found before anything was allocated; the message holds the plan. */
public final class MemoryException extends IllegalStateException {
  private final MemoryVerdict verdict;

  public MemoryException(String message, MemoryVerdict verdict) {
    super(message);
    this.verdict = verdict;
  }

  public MemoryVerdict verdict() {
    return verdict;
  }
}
