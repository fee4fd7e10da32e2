package io.moestream.job.ramp;

import io.moestream.job.config.JobConfig;
import io.moestream.job.kafka.TopicClients;
import io.moestream.job.pipeline.InferencePipeline;
import io.moestream.job.pipeline.JobClients;
import io.moestream.operators.codec.AvroCodec;
import io.moestream.schemas.Generation;
import io.moestream.schemas.InferenceRequest;
import io.moestream.schemas.Sampling;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntFunction;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;

/**
 * One load ramp through Kafka and the real streaming job: requests are produced at the schedule's
 * rates, generations are read back (read_committed) and each is timed by its Kafka timestamp, which
 * the job's sink sets when it emits the generation (not when the transaction commits).
 *
 * <p>Before the clock starts one warm-up request goes through, so model loading is not measured.
 * Request ids are {@code ramp-<n>} with a fixed prompt and seed per n: two runs of the same ramp send
 * the same requests, so their generations can be compared id by id.
 */
public final class RampRun {
  private static final String[] PROMPTS = {
      "Explain in one sentence what a mixture-of-experts model is.",
      "Write a short poem about stream processing and quiet rivers.",
      "List three reasons to checkpoint a long-running job.",
      "Describe the difference between latency and throughput.",
      "What makes a good name for a friendly robot?",
      "Summarize why backpressure keeps a pipeline stable.",
  };

  /** @param sentAtS seconds from the start of the ramp */
  public record Sent(String requestId, double sentAtS, int phase) {}

  /**
   * @param emittedAtS when the job emitted it, seconds from the start of the ramp
   * @param readAtS when this reader got it (read_committed: after the checkpoint that committed it)
   * @param timeToFirstTokenMs from entering the job to its first token (the generation's timings)
   * @param text the generated text (empty when the generation ended in an error)
   */
  public record Answer(String requestId, double emittedAtS, double readAtS, int completionTokens, int expertsMin,
      double expertsMean, long timeToFirstTokenMs, long totalMs, List<Integer> tokenIds, String text) {}

  /**
   * The inference operator's metrics once a second, {@code atS} seconds from the start of the ramp:
   * generated tokens and requests in (counters), experts per token of the last second, level, in flight.
   */
  public record Sample(double atS, long generatedTokens, long requestsIn, double expertsPerToken, int level,
      long inFlight) {}

  /**
   * Everything one ramp measured; samples are empty when the job's REST API was not given.
   *
   * @param incomplete why the ramp stopped before every request was answered (answers missing, the job
   *     ended, producing failed); null when it completed. What was measured until then is kept.
   */
  public record Result(String policy, int modelExpertsPerToken, int maxInFlight, RampSchedule schedule, List<Sent> sent,
      Map<String, Answer> answers, List<Sample> samples, String incomplete) {}

  private RampRun() {}

  /** The request sent as number {@code n}: greedy for even n, seeded sampling for odd n. */
  public static InferenceRequest request(int n, int maxNewTokens) {
    // every value explicit: the benchmark's mix stays the same whatever the model's generation_config.json says
    Sampling sampling = n % 2 == 0 ? Sampling.newBuilder().setTemperature(0f).setTopP(1f).setTopK(0).build()
        : Sampling.newBuilder().setTemperature(0.8f).setTopP(0.95f).setTopK(0).setSeed(1000 + n).build();
    return InferenceRequest.newBuilder().setRequestId("ramp-" + n)
        .setPrompt("Request " + n + ". " + PROMPTS[n % PROMPTS.length])
        .setMaxNewTokens(maxNewTokens).setSampling(sampling).build();
  }

  /**
   * Runs the job under {@code config} (its topics must exist) on {@code env}, sends the ramp, waits for
   * every answer (at most {@code drain} after the last request), cancels the job. A ramp that stops
   * early (answers still missing at the deadline, the job ended, producing failed) returns what it
   * measured with {@link Result#incomplete} saying why; only a failure before the clock starts throws.
   */
  public static Result run(StreamExecutionEnvironment env, JobConfig config, int modelExpertsPerToken,
      RampSchedule schedule, int maxNewTokens, Duration drain, PrintStream log) throws Exception {
    return run(env, config, modelExpertsPerToken, schedule, maxNewTokens, drain, log, null, job -> { });
  }

  /** What to do with the still-running job once every answer is in (e.g. read its metrics). */
  @FunctionalInterface
  public interface AfterRamp {
    void accept(JobClient job) throws Exception;
  }

  public static Result run(StreamExecutionEnvironment env, JobConfig config, int modelExpertsPerToken,
      RampSchedule schedule, int maxNewTokens, Duration drain, PrintStream log, String restBase, AfterRamp afterRamp)
      throws Exception {
    return run(env, config, modelExpertsPerToken, schedule, n -> request(n, maxNewTokens), drain, log, restBase,
        job -> { }, afterRamp);
  }

  /**
   * The ramp with requests of the caller's making: {@code requests.apply(n)} is sent as number n (n from
   * 1; 0 is the warm-up, sent with at most 4 new tokens). {@code beforeRamp} runs once the warm-up is
   * answered, just before the clock starts.
   */
  public static Result run(StreamExecutionEnvironment env, JobConfig config, int modelExpertsPerToken,
      RampSchedule schedule, IntFunction<InferenceRequest> requestFactory, Duration drain, PrintStream log,
      String restBase, AfterRamp beforeRamp, AfterRamp afterRamp) throws Exception {
    InferencePipeline.define(env, config);
    JobClient job = env.executeAsync(config.flink().jobName() + " ramp " + config.experts().policy());
    String bootstrap = config.kafka().bootstrapServers();
    String input = config.kafka().inputTopic();
    AvroCodec<InferenceRequest> requests = new AvroCodec<>(InferenceRequest.class);
    AvroCodec<Generation> generations = new AvroCodec<>(Generation.class);
    double[] sendTimes = schedule.sendTimes();
    List<Sent> sent = new ArrayList<>();
    Map<String, Answer> answers = new LinkedHashMap<>();
    List<Sample> samples = List.of();
    JobMetricsSampler sampler = null;
    String incomplete = null;
    try (KafkaProducer<byte[], byte[]> producer = TopicClients.producer(bootstrap, 0, config.kafka().properties());
         KafkaConsumer<byte[], byte[]> consumer = TopicClients.committedReader(bootstrap, null,
             config.kafka().properties())) {
      consumer.subscribe(List.of(config.kafka().outputTopic()));
      InferenceRequest first = requestFactory.apply(0);
      InferenceRequest warmUp = InferenceRequest.newBuilder(first).setRequestId("ramp-warm-up")
          .setMaxNewTokens(Math.min(4, first.getMaxNewTokens())).build();
      producer.send(TopicClients.avroRecord(input, warmUp, requests)).get();
      awaitWarmUp(consumer, generations, job, Duration.ofMinutes(5));
      log.printf("ramp %s: warm-up answered; sending %d requests over %.0f s (%s)%n", config.experts().policy(),
          sendTimes.length, schedule.totalSeconds(), schedule);

      beforeRamp.accept(job);
      long startMs = System.currentTimeMillis();
      if (restBase != null) {
        sampler = new JobMetricsSampler(restBase, job.getJobID().toString(), startMs);
      }
      AtomicReference<Exception> producerFailure = new AtomicReference<>();
      Thread sender = new Thread(() -> {
        try {
          for (int n = 0; n < sendTimes.length; n++) {
            long due = startMs + Math.round(sendTimes[n] * 1000);
            long wait = due - System.currentTimeMillis();
            if (wait > 0) {
              Thread.sleep(wait);
            }
            InferenceRequest r = requestFactory.apply(n + 1);
            producer.send(TopicClients.avroRecord(input, r, requests));
            synchronized (sent) {
              sent.add(new Sent(r.getRequestId(), (System.currentTimeMillis() - startMs) / 1000.0,
                  schedule.phaseAt(sendTimes[n])));
            }
          }
          producer.flush();
        } catch (Exception e) {
          producerFailure.set(e);
        }
      }, "ramp-producer");
      sender.setDaemon(true);
      sender.start();

      long deadline = startMs + Math.round(schedule.totalSeconds() * 1000) + drain.toMillis();
      long lastReport = 0;
      while (answers.size() < sendTimes.length && incomplete == null) {
        if (producerFailure.get() != null) {
          incomplete = "producing the ramp failed: " + producerFailure.get();
          break;
        }
        if (System.currentTimeMillis() > deadline) {
          incomplete = "only " + answers.size() + " of " + sendTimes.length + " answered " + drain.toSeconds()
              + " s after the last request";
          break;
        }
        JobStatus status = job.getJobStatus().get();
        if (status.isGloballyTerminalState()) {
          incomplete = "the job ended (" + status + ") during the ramp";
          break;
        }
        for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(200))) {
          Generation g = generations.decode(record.value());
          if (g.getRequestId().equals(warmUp.getRequestId())) {
            continue;
          }
          answers.put(g.getRequestId(), new Answer(g.getRequestId(), (record.timestamp() - startMs) / 1000.0,
              (System.currentTimeMillis() - startMs) / 1000.0, g.getCompletionTokens(),
              g.getExpertsPerToken().getMin(), g.getExpertsPerToken().getMean(),
              g.getTimings().getTimeToFirstTokenMs(), g.getTimings().getTotalMs(), List.copyOf(g.getTokenIds()),
              g.getText()));
        }
        long now = System.currentTimeMillis();
        if (now - lastReport >= 10_000) {
          lastReport = now;
          int sentCount;
          synchronized (sent) {
            sentCount = sent.size();
          }
          log.printf("ramp %s: t=%.0f s, sent %d, answered %d%n", config.experts().policy(), (now - startMs) / 1000.0,
              sentCount, answers.size());
        }
      }
      if (incomplete == null) {
        sender.join();
      } else {
        sender.interrupt();
        log.printf("ramp %s: INCOMPLETE, %s; reporting what was measured%n", config.experts().policy(), incomplete);
      }
      if (sampler != null) {
        samples = sampler.stop();
        sampler = null;
        log.printf("ramp %s: %d metric samples; last %s%n", config.experts().policy(), samples.size(),
            samples.isEmpty() ? "-" : samples.get(samples.size() - 1));
      }
      if (incomplete == null) {
        afterRamp.accept(job);
      }
    } finally {
      if (sampler != null) {
        try {
          sampler.stop();
        } catch (RuntimeException e) {
          log.println("ramp: metrics sampling failed too: " + e.getMessage()); // the ramp's own failure goes on
        }
      }
      JobClients.cancelAndAwait(job, java.time.Duration.ofMinutes(1));
    }
    return new Result(config.experts().policy(), modelExpertsPerToken, config.batching().maxInFlight(), schedule,
        snapshot(sent), answers, samples, incomplete);
  }

  private static List<Sent> snapshot(List<Sent> sent) {
    synchronized (sent) {
      return List.copyOf(sent);
    }
  }

  private static void awaitWarmUp(KafkaConsumer<byte[], byte[]> consumer, AvroCodec<Generation> generations,
      JobClient job, Duration timeout) throws Exception {
    long deadline = System.currentTimeMillis() + timeout.toMillis();
    while (System.currentTimeMillis() < deadline) {
      checkRunning(job);
      for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(200))) {
        if (generations.decode(record.value()).getRequestId().equals("ramp-warm-up")) {
          return;
        }
      }
    }
    throw new IllegalStateException("the warm-up request was not answered within " + timeout.toSeconds() + " s");
  }

  private static void checkRunning(JobClient job) throws Exception {
    JobStatus status = job.getJobStatus().get();
    if (status.isGloballyTerminalState()) {
      throw new IllegalStateException("the job ended (" + status + ") during the ramp");
    }
  }
}
