package io.moestream.job.pipeline;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.flink.core.execution.JobClient;

/** Ending a job that runs next to the Kafka broker its sinks write to. */
public final class JobClients {
  private JobClients() {}

  /**
   * Cancels {@code job} unless it has ended, then waits for its result. {@code cancel()} completes when
   * the cancel is acknowledged, not when the tasks are gone; a broker closed while the Kafka sink
   * still aborts its transaction makes the abort wait for a minute and fails the TaskManager. The
   * result, not the status, is waited for: a job's own local cluster shuts down once the job ends,
   * after which its status can no longer be asked.
   */
  public static void cancelAndAwait(JobClient job, Duration timeout) throws Exception {
    CompletableFuture<?> result = job.getJobExecutionResult();
    if (result.isDone()) {
      return;
    }
    try {
      job.cancel().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      if (!result.isDone()) { // not merely a job that ended meanwhile
        throw e;
      }
    }
    try {
      result.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException cancelled) {
      // a cancelled job's result is an exception: the end we waited for
    } catch (TimeoutException e) {
      throw new IllegalStateException("job " + job.getJobID() + " has not ended " + timeout.toSeconds()
          + " s after it was cancelled", e);
    }
  }
}
