package io.moestream.engine.plan;

import java.util.List;

/**
 * What {@link MemoryCheck} found.
 *
 * @param problems reasons the model does not fit, each with its numbers and what to change; empty when it fits
 * @param warnings what fits only by an override or may fail later (weights over the RAM, a GPU too small for auto)
 * @param notes what was not checked and why (no GPU, RAM unknown)
 * @param heapMarginBytes the heap kept free for everything else in the JVM
 */
public record MemoryVerdict(List<String> problems, List<String> warnings, List<String> notes, long heapMarginBytes) {

  public MemoryVerdict {
    problems = List.copyOf(problems);
    warnings = List.copyOf(warnings);
    notes = List.copyOf(notes);
  }

  public boolean fits() {
    return problems.isEmpty();
  }
}
