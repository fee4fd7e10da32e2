package io.moestream.job.corpus;

import io.moestream.job.config.JobConfig;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * One corpus run from start to end: repair and read the output directory, scan the input, run the job
 * over what is left while printing progress, then check that every record of the input is answered.
 */
public final class CorpusRun {
  /** How progress is shown on stderr. */
  public enum ProgressMode { AUTO, TERMINAL, PLAIN, OFF }

  /** What the run ended with. */
  public record Result(long total, long finished, long generations, long deadLetters, long tokensThisRun) {
    public boolean complete() {
      return finished == total;
    }
  }

  private final String input;
  private final Path outputDir;
  private final CorpusFormat format;
  private final PromptDefaults defaults;
  private final JobConfig config;
  private final PrintStream err;

  public CorpusRun(String input, Path outputDir, CorpusFormat format, PromptDefaults defaults, JobConfig config,
      PrintStream err) {
    this.input = input;
    this.outputDir = outputDir.toAbsolutePath().normalize();
    this.format = format;
    this.defaults = defaults;
    this.config = config;
    this.err = err;
  }

  /**
   * Runs what the output does not yet answer.
   *
   * @throws IllegalStateException when the job fails (the message says what and that a rerun finishes)
   */
  public Result run(StreamExecutionEnvironment env, ProgressMode mode, Duration plainInterval) throws Exception {
    Files.createDirectories(outputDir);
    CorpusOutput.Finished before = CorpusOutput.finished(outputDir, true);
    before.repaired().forEach(f -> err.println("moestream corpus: cut the unfinished last line of " + f));
    List<CorpusFiles.InputFile> files = CorpusFiles.resolve(input, outputDir);
    CorpusScan scan = CorpusScan.of(files, format, defaults, before.keys());
    err.println("moestream corpus: " + scan.total() + " records in " + scan.files() + " file(s); " + scan.finished()
        + " already answered in " + outputDir + ", " + scan.remaining() + " to run");
    if (scan.duplicates() > 0) {
      err.println("moestream corpus: warning: " + scan.duplicates() + " records repeat an earlier record's request id;"
          + " each is run, and a rerun counts any of them as all of them");
    }
    if (scan.remaining() == 0) {
      return result(scan, 0);
    }
    String runId = CorpusOutput.newRunId();
    CorpusJob.define(env, new CorpusJob.Plan(files, format, defaults, outputDir, runId, config));
    JobClient job = env.executeAsync(config.flink().jobName() + "-corpus");
    CorpusProgress progress = new CorpusProgress(outputDir, runId, scan.total(), scan.finished());
    boolean terminal = mode == ProgressMode.TERMINAL || (mode == ProgressMode.AUTO && CorpusProgress.stderrIsTerminal());
    long every = terminal ? 500 : plainInterval.toMillis();
    long nextPrint = System.currentTimeMillis() + every;
    // the result future, not the job status: a local cluster shuts down as soon as its job ends
    CompletableFuture<JobExecutionResult> done = job.getJobExecutionResult();
    while (!done.isDone()) {
      Thread.sleep(Math.min(200, every));
      if (mode != ProgressMode.OFF && System.currentTimeMillis() >= nextPrint) {
        progress.print(err, terminal);
        nextPrint += every;
      }
    }
    Throwable failure = null;
    try {
      done.get();
    } catch (ExecutionException e) {
      failure = e;
    }
    if (mode != ProgressMode.OFF) {
      progress.print(err, terminal);
      if (terminal) {
        err.println();
      }
    }
    Result result = result(scan, progress.tokens());
    if (failure != null) {
      throw new IllegalStateException(rootMessage(failure) + " (" + result.finished() + " of " + result.total()
          + " records answered; run the same command again to finish the rest)", failure);
    }
    return result;
  }

  private Result result(CorpusScan scan, long tokens) {
    CorpusOutput.Finished after = CorpusOutput.finished(outputDir, false);
    List<CorpusFiles.InputFile> files = CorpusFiles.resolve(input, outputDir);
    CorpusScan now = CorpusScan.of(files, format, defaults, after.keys());
    return new Result(scan.total(), now.finished(), after.generations(), after.deadLetters(), tokens);
  }

  /** The message of the innermost cause, or of unreadable input where there is one. */
  static String rootMessage(Throwable failure) {
    Throwable root = failure;
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof CorpusInputException) {
        return t.getMessage();
      }
      root = t;
    }
    return root.getMessage() == null ? root.getClass().getName() : root.getMessage();
  }
}
