package io.moestream.engine.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The close path after a sticky error: every release runs, and none replaces the original error. */
class ReleaseStepsTest {

  @Test
  void everyStepRunsAndFailuresAreSuppressedInTheOriginal() {
    List<String> ran = new ArrayList<>();
    RuntimeException original = new RuntimeException("CUDA_ERROR_ILLEGAL_ADDRESS");
    List<ReleaseSteps.Step> steps = List.of(
        new ReleaseSteps.Step("device memory", () -> {
          ran.add("memory");
          throw new RuntimeException("CUDA_ERROR_ILLEGAL_ADDRESS");
        }),
        new ReleaseSteps.Step("the stream", () -> {
          ran.add("stream");
          throw new UnsatisfiedLinkError("gone");
        }),
        new ReleaseSteps.Step("the primary context (reset)", () -> ran.add("reset")));
    List<Throwable> failures = ReleaseSteps.run(steps, original);
    assertEquals(List.of("memory", "stream", "reset"), ran);
    assertEquals(2, failures.size());
    assertEquals(2, original.getSuppressed().length);
    assertTrue(original.getSuppressed()[0].getMessage().contains("releasing device memory failed"),
        original.getSuppressed()[0].getMessage());
    assertEquals("CUDA_ERROR_ILLEGAL_ADDRESS", original.getMessage());
  }

  @Test
  void aCleanCloseReportsItsFailuresToTheCaller() {
    List<Throwable> failures = ReleaseSteps.run(List.of(new ReleaseSteps.Step("pinned staging", () -> {
      throw new RuntimeException("CUDA_ERROR_INVALID_VALUE");
    }), new ReleaseSteps.Step("the stream", () -> { })), null);
    assertEquals(1, failures.size());
    assertTrue(failures.get(0).getMessage().contains("pinned staging"), failures.get(0).getMessage());
    assertTrue(CudaErrors.resultName(failures.get(0)).equals("CUDA_ERROR_INVALID_VALUE"));
  }
}
