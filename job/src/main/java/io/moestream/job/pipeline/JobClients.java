package io.moestream.job.pipeline;

import java.time.Duration;
import java.util.concurrent.ExecutionException;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.core.execution.JobClient;

/** Ending a job that runs next to the Kafka broker its sinks write to. */
public final class JobClients {
  private JobClients() {}

  /**
   * Cancels {@code job} unless it has ended, then waits until it has. {@code cancel()} completes when
   * the cancel is acknowledged, not when the tasks are gone; a broker closed while the Kafka sink
   * still aborts its transaction makes the abort wait for a minute and fails the TaskManager.
   */
  public static void cancelAndAwait(JobClient job, Duration timeout) throws Exception {
    if (!job.getJobStatus().get().isGloballyTerminalState()) {
      try {
        job.cancel().get();
      } catch (ExecutionException e) {
        if (!job.getJobStatus().get().isGloballyTerminalState()) { // not merely ended meanwhile
          throw e;
        }
      }
    }
    long deadline = System.nanoTime() + timeout.toNanos();
    JobStatus status;
    while (!(status = job.getJobStatus().get()).isGloballyTerminalState()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("job " + job.getJobID() + " is still " + status + " " + timeout.toSeconds()
            + " s after it was cancelled");
      }
      Thread.sleep(50);
    }
  }
}
