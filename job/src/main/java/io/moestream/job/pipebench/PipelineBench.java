package io.moestream.job.pipebench;

import io.moestream.engine.policy.ExpertPolicies;
import io.moestream.job.config.JobConfig;
import io.moestream.job.ramp.JobMetricsSampler;
import io.moestream.job.ramp.RampRun;
import io.moestream.job.ramp.RampSchedule;
import io.moestream.schemas.InferenceRequest;
import io.moestream.schemas.Sampling;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * bench-pipeline: the same requests through the engine alone and then through the job, one after the
 * other in this process, and the report of what the pipeline cost ({@link PipelineReport}).
 */
public final class PipelineBench {
  private static final String[] PROMPTS = {
      "Explain in one sentence what a mixture-of-experts model is.",
      "Write a short poem about stream processing and quiet rivers.",
      "List three reasons to checkpoint a long-running job.",
      "Describe the difference between latency and throughput.",
  };

  private PipelineBench() {}

  /**
   * Request n (0 = the warm-up): greedy for even n, seeded sampling for odd n, every sampling field
   * explicit so neither run depends on the model's generation defaults.
   */
  static InferenceRequest request(int n, int maxNewTokens) {
    Sampling sampling = n % 2 == 0
        ? Sampling.newBuilder().setTemperature(0f).setTopP(1f).setTopK(0).setSeed(0).build()
        : Sampling.newBuilder().setTemperature(0.8f).setTopP(0.95f).setTopK(0).setSeed(1000 + n).build();
    return InferenceRequest.newBuilder().setRequestId("ramp-" + n)
        .setPrompt("Request " + n + ". " + PROMPTS[n % PROMPTS.length])
        .setMaxNewTokens(maxNewTokens).setSampling(sampling).build();
  }

  /** Runs both and returns the report as markdown; {@code env} and {@code restUrl} are the job's local cluster. */
  public static String run(JobConfig config, int modelExpertsPerToken, int count, int maxNewTokens, Duration drain,
      String brokerNote, PrintStream log, StreamExecutionEnvironment env, String restUrl) throws Exception {
    if (count < 1) {
      throw new IllegalArgumentException("--requests must be >= 1, found " + count);
    }
    String policy = config.experts().policy();
    if (policy.startsWith("adaptive")) {
      throw new IllegalArgumentException("experts.policy '" + policy + "': bench-pipeline compares at a fixed policy "
          + "(full, fixed:K, schedule:...); adaptive's level follows load the engine alone does not see");
    }
    ExpertPolicies.parse(policy);
    List<InferenceRequest> requests = new ArrayList<>();
    for (int n = 0; n <= count; n++) {
      requests.add(request(n, maxNewTokens));
    }
    log.printf("bench-pipeline: engine alone, %d requests (%s, policy %s)%n", count, config.model().dir(), policy);
    EngineAlone.Result alone = EngineAlone.run(config, requests);
    log.printf(Locale.ROOT, "bench-pipeline: engine alone %.1f tok/s; now the job%n",
        alone.generatedTokens() / alone.seconds());
    AtomicReference<OperatorTimes> before = new AtomicReference<>();
    AtomicReference<OperatorTimes> after = new AtomicReference<>();
    AtomicReference<ThreadCpu.Reading> jobStart = new AtomicReference<>();
    AtomicReference<ThreadCpu.Reading> jobEnd = new AtomicReference<>();
    // every request within the first half second: a backlog, as the engine alone had
    RampSchedule burst = RampSchedule.parse("0.5s@" + (2 * count));
    // no once-a-second metric sampling during the run (RampRun's, with a null REST base): every read makes
    // the JobManager fetch all of the TaskManager's metrics, per-expert ones included; read before and after
    RampRun.Result job = RampRun.run(env, config, modelExpertsPerToken, burst, requests::get, drain, log, null,
        j -> {
          before.set(readTimes(restUrl, j.getJobID().toString(), log));
          jobStart.set(ThreadCpu.read());
        },
        j -> {
          jobEnd.set(ThreadCpu.read());
          after.set(readTimes(restUrl, j.getJobID().toString(), log));
        });
    OperatorTimes times = before.get() == null || after.get() == null ? null : after.get().since(before.get());
    String shape = Path.of(config.model().dir()).getFileName() + ", policy " + policy + ", " + brokerNote;
    var jobCpu = jobStart.get() == null || jobEnd.get() == null ? java.util.Map.<String, Double>of()
        : ThreadCpu.byGroup(jobStart.get(), jobEnd.get());
    return new PipelineReport(shape, config.batching().maxInFlight(), alone, job, times, alone.cpuSeconds(), jobCpu).markdown();
  }

  /**
   * The operator's times now: the REST API answers from a store that its first query only starts to fill
   * and that is refreshed at most once a second, so the second of two reads 1.5 s apart is the one to use.
   */
  private static OperatorTimes readTimes(String restUrl, String jobId, PrintStream log) {
    try {
      JobMetricsSampler rest = JobMetricsSampler.onDemand(restUrl, jobId, System.currentTimeMillis());
      OperatorTimes.read(rest, jobId);
      Thread.sleep(1500);
      return OperatorTimes.read(rest, jobId);
    } catch (Exception e) {
      log.println("bench-pipeline: the operator's time metrics could not be read: " + e.getMessage());
      return null;
    }
  }
}
