package io.moestream.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moestream.job.config.JobConfig;
import io.moestream.job.kafka.EmbeddedKafka;
import io.moestream.job.pipeline.DemoModel;
import io.moestream.job.ramp.RampReport;
import io.moestream.job.ramp.RampRun;
import io.moestream.job.ramp.RampSchedule;
import io.moestream.operators.metrics.MetricNames;
import io.moestream.schemas.InferenceRequest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The adaptive policy through Kafka and Flink on a load ramp (light -> overload -> light): under
 * overload it steps below the model's experts per token, afterwards it comes back to the full model,
 * and what it generates on the full model is token for token what the engine alone generates (same
 * ids, same seeds). Short dwell times keep the ramp short; the rule is the controller's own. The
 * throughput gain is a benchmark (bench-ramp, docs/BENCHMARKS.md), not asserted here.
 */
class LoadRampEndToEndTest {
  @RegisterExtension static final MiniClusterExtension FLINK = EndToEnd.miniCluster();

  @TempDir Path tmp;

  @Test
  void adaptiveStepsDownUnderOverloadAndReturnsToTheFullModel() throws Exception {
    Path model = DemoModel.write(DemoModel.spec(), tmp.resolve("model")); // top-2 of 8: levels fixed:2, fixed:1
    RampSchedule ramp = RampSchedule.parse("6s@1,3s@30,60s@0.5");
    int maxNewTokens = 16; // a short, steep overload: overload on a fast machine, drained in time on a slow one
    RampRun.Result result;
    Map<String, Long> metrics = new java.util.HashMap<>();
    try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
      JobConfig config = EndToEnd.config("ramp", model, kafka.bootstrapServers(), Map.of(
          "experts.policy", "adaptive", "experts.dwell_down_ms", 300, "experts.dwell_up_ms", 1000,
          "batching.max_in_flight", 4, "batching.max_batch_size", 4, "flink.checkpoint_interval_ms", 300));
      kafka.createTopics(1, config.kafka().inputTopic(), config.kafka().outputTopic(), config.kafka().deadLetterTopic());
      result = RampRun.run(StreamExecutionEnvironment.getExecutionEnvironment(), config, 2, ramp, maxNewTokens,
          Duration.ofMinutes(4), System.err, FlinkRest.base(FLINK), job -> {
            FlinkRest rest = new FlinkRest(FLINK);
            // the REST API serves metrics from a store refreshed every second: wait until it has the last requests
            long until = System.currentTimeMillis() + 30_000;
            while (rest.operatorMetric(job.getJobID(), MetricNames.REQUESTS_IN) < ramp.sendTimes().length + 1
                && System.currentTimeMillis() < until) {
              Thread.sleep(200);
            }
            Thread.sleep(2_000); // and one more refresh, for the counters updated with the last generation
            for (String name : List.of(MetricNames.EXPERT_LEVEL_CHANGES, MetricNames.EXPERT_TOKENS,
                MetricNames.EXPERTS_PER_TOKEN, MetricNames.LAYER_EXPERTS_PER_TOKEN, MetricNames.EXPERT_LEVEL,
                MetricNames.STEP_EXPERTS_PER_TOKEN, MetricNames.EXPERTS_KEPT, MetricNames.GENERATED_TOKENS,
                MetricNames.REQUESTS_IN)) {
              metrics.put(name, rest.operatorMetric(job.getJobID(), name));
            }
          });
    }
    RampReport.Summary summary = new RampReport(List.of(result)).summaries().get(0);
    System.err.println(new RampReport(List.of(result)).markdown());
    assertEquals(null, result.incomplete(), "the ramp should complete");
    assertEquals(ramp.sendTimes().length, result.answers().size(), "every request answered once");
    long below = result.answers().values().stream().filter(a -> a.expertsMin() < 2).count();
    assertTrue(below > 0, "under overload some requests should run on fewer than the model's 2 experts");
    assertTrue(summary.lastRequestsFull(), "the last light-load requests should run on the full model; "
        + "last answer below it at " + summary.returnedToFullAtS() + " s");

    // the same story through Flink's metric groups (REST API, as the dashboard reads them)
    assertTrue(metrics.get(MetricNames.EXPERT_LEVEL_CHANGES) >= 2, "down and back up: " + metrics);
    assertEquals(0, metrics.get(MetricNames.EXPERT_LEVEL), "level after the ramp: " + metrics);
    assertTrue(metrics.get(MetricNames.EXPERTS_PER_TOKEN) >= 1, "experts per token gauge: " + metrics);
    assertTrue(metrics.get(MetricNames.LAYER_EXPERTS_PER_TOKEN) >= 2, "per-layer gauges (2 layers): " + metrics);
    long stepMean = metrics.get(MetricNames.STEP_EXPERTS_PER_TOKEN);
    assertTrue(stepMean >= 1 && stepMean <= 2, "the last step's experts per token: " + metrics);
    assertEquals(8, metrics.get(MetricNames.EXPERTS_KEPT), "not pruned: all 8 experts kept: " + metrics);
    long generated = metrics.get(MetricNames.GENERATED_TOKENS);
    assertTrue(generated >= result.answers().values().stream().mapToInt(RampRun.Answer::completionTokens).sum(), "" + metrics);
    // every generated token passed both sparse layers with 1 or 2 experts (prompt tokens too, so more)
    assertTrue(metrics.get(MetricNames.EXPERT_TOKENS) > 2 * generated, "tokens per expert, summed: " + metrics);
    assertEquals(ramp.sendTimes().length + 1, metrics.get(MetricNames.REQUESTS_IN), "requests in (+ warm-up)");
    // sampled once a second while the ramp ran: the level left 0 and came back, tokens were counted
    assertTrue(result.samples().size() >= 20, "samples: " + result.samples().size());
    assertTrue(result.samples().stream().anyMatch(s -> s.level() > 0), "a sample below full quality");
    assertTrue(result.samples().stream().anyMatch(s -> s.expertsPerToken() < 2), "a second with fewer experts");
    assertEquals(0, result.samples().get(result.samples().size() - 1).level());
    assertTrue(summary.overloadThroughput() > 0);

    List<InferenceRequest> fullModelAnswers = new ArrayList<>();
    for (RampRun.Sent s : result.sent()) {
      if (s.phase() != ramp.busiestPhase() && result.answers().get(s.requestId()).expertsMin() == 2) {
        fullModelAnswers.add(RampRun.request(Integer.parseInt(s.requestId().substring("ramp-".length())), maxNewTokens));
      }
    }
    assertTrue(fullModelAnswers.size() >= 10, "light-load answers on the full model: " + fullModelAnswers.size());
    try (EndToEnd.Reference reference = new EndToEnd.Reference(model)) {
      var expected = reference.generateAll(fullModelAnswers);
      for (InferenceRequest r : fullModelAnswers) {
        assertEquals(expected.get(r.getRequestId()).getKey(), result.answers().get(r.getRequestId()).tokenIds(),
            r.getRequestId() + ": light load on the full model must generate what the engine alone does");
      }
    }
  }
}
