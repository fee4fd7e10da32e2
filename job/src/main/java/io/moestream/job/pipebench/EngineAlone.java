package io.moestream.job.pipebench;

import io.moestream.engine.generate.Engine;
import io.moestream.engine.generate.GenerationRequest;
import io.moestream.engine.generate.LoadedModel;
import io.moestream.engine.generate.SamplingDefaults;
import io.moestream.engine.generate.TokenEvent;
import io.moestream.engine.model.ModelConfig;
import io.moestream.engine.policy.LoadSignals;
import io.moestream.engine.policy.PolicyDriver;
import io.moestream.engine.tokenizer.Tokenizer;
import io.moestream.job.config.JobConfig;
import io.moestream.job.pipeline.InferencePipeline;
import io.moestream.operators.codec.UnsetSampling;
import io.moestream.operators.inference.ExpertControl;
import io.moestream.operators.inference.InferenceSettings;
import io.moestream.operators.tokenize.PromptTokenizer;
import io.moestream.schemas.InferenceRequest;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The same requests through the engine alone, as the job's inference operator would run them: the
 * job's engine options, policy and in-flight cap, prompts tokenized by the job's tokenizer stage, every
 * request arriving at once (a backlog), the next one admitted when one finishes.
 */
final class EngineAlone {
  /**
   * One request's outcome, times in seconds from the start (when every request had arrived).
   *
   * @param firstTokenAtS when its first token came out (NaN if none)
   */
  record Outcome(String requestId, double firstTokenAtS, double finishedAtS, List<Integer> tokenIds) {}

  /** @param seconds from the start to the last request's end */
  /** @param cpuSeconds this process's CPU time by thread group over the timed run ({@link ThreadCpu}) */
  record Result(double seconds, long generatedTokens, long steps, Map<String, Outcome> outcomes,
      Map<String, Double> cpuSeconds) {}

  private EngineAlone() {}

  /** Runs {@code requests[1..]}, after {@code requests[0]} as an untimed warm-up of at most 4 tokens. */
  static Result run(JobConfig config, List<InferenceRequest> requests) {
    Path dir = Path.of(config.model().dir());
    ModelConfig modelConfig = ModelConfig.read(dir);
    ExpertControl control = InferencePipeline.expertControl(config, modelConfig);
    InferenceSettings settings = InferencePipeline.inferenceSettings(config);
    PromptTokenizer prompts = new PromptTokenizer(Tokenizer.load(dir), modelConfig.maxPositionEmbeddings(),
        config.model().specialTokensInContent());
    // unset sampling values resolved as the job's tokenize stage resolves them
    SamplingDefaults sampling = SamplingDefaults.read(dir);
    try (LoadedModel model = control.load(dir, settings.engineOptions())) {
      Engine engine = model.engine();
      PolicyDriver policy = new PolicyDriver(engine, control.parsedPolicy(), control.controller());
      // a fixed policy's level never moves: one reading of an idle load sets it
      policy.onSignals(System.nanoTime(), new LoadSignals(0, 0, 0, 0, 0, -1));
      InferenceRequest first = requests.get(0);
      runAll(engine, prompts, sampling, List.of(InferenceRequest.newBuilder(first)
          .setMaxNewTokens(Math.min(4, first.getMaxNewTokens())).build()), 1);
      return runAll(engine, prompts, sampling, requests.subList(1, requests.size()), settings.maxInFlight());
    }
  }

  private static Result runAll(Engine engine, PromptTokenizer prompts, SamplingDefaults sampling,
      List<InferenceRequest> requests, int maxInFlight) {
    Deque<InferenceRequest> backlog = new ArrayDeque<>(requests);
    Map<String, List<Integer>> tokens = new LinkedHashMap<>();
    Map<String, Double> firstAt = new LinkedHashMap<>();
    Map<String, Outcome> outcomes = new LinkedHashMap<>();
    ThreadCpu.Reading cpuStart = ThreadCpu.read();
    long start = System.nanoTime();
    long generated = 0;
    long steps = 0;
    int inFlight = 0;
    while (!backlog.isEmpty() || inFlight > 0) {
      while (inFlight < maxInFlight && !backlog.isEmpty()) {
        InferenceRequest r = backlog.poll();
        engine.submit(new GenerationRequest(r.getRequestId(), prompts.promptIds(r),
            UnsetSampling.resolve(r.getSampling(), sampling), r.getMaxNewTokens(), null));
        tokens.put(r.getRequestId(), new ArrayList<>());
        inFlight++;
      }
      List<TokenEvent> events = engine.step();
      steps++;
      double at = (System.nanoTime() - start) / 1e9;
      for (TokenEvent e : events) {
        if (e.tokenId() >= 0) {
          generated++;
          tokens.get(e.requestId()).add(e.tokenId());
          firstAt.putIfAbsent(e.requestId(), at);
        }
        if (e.finished()) {
          inFlight--;
          outcomes.put(e.requestId(), new Outcome(e.requestId(), firstAt.getOrDefault(e.requestId(), Double.NaN),
              at, List.copyOf(tokens.get(e.requestId()))));
        }
      }
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    return new Result(seconds, generated, steps, outcomes, ThreadCpu.byGroup(cpuStart, ThreadCpu.read()));
  }
}
