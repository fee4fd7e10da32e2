package io.moestream.job.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.moestream.job.config.JobConfig;
import io.moestream.job.config.JobConfigLoader;
import io.moestream.job.corpus.CorpusFormat;
import io.moestream.job.corpus.CorpusRun;
import io.moestream.job.corpus.PromptDefaults;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "corpus",
    description = {"Runs the job's operators over files, without Kafka.",
        "%nThe operators run in Flink BATCH mode. The input is JSON lines of requests, Avro InferenceRequest"
            + " container files, or plain text (one prompt per line). Generations and dead letters go to --output"
            + " as JSON lines, record by record; progress goes to stderr, a one-line JSON summary to stdout.",
        "%nRun it again with the same --output to finish what a stopped run left undone: answered records are"
            + " skipped. The full model runs by default (experts.policy: full). See docs/CORPUS.md."})
final class CorpusCommand implements Callable<Integer> {
  @Option(names = "--input", required = true, paramLabel = "<path>",
      description = "A file, a directory (every file under it) or a glob such as 'data/*.jsonl' (quote it).")
  String input;

  @Option(names = "--output", required = true, paramLabel = "<dir>",
      description = "Where generations and dead letters go.")
  Path output;

  @Option(names = "--format", defaultValue = "jsonl", paramLabel = "<format>",
      description = "jsonl, avro or text. Default: ${DEFAULT-VALUE}.")
  String format;

  @Mixin PipelineOptions pipeline;

  @Option(names = "--max-new-tokens", defaultValue = "16", paramLabel = "<n>",
      description = "Text format: tokens each prompt generates at most. Default: ${DEFAULT-VALUE}.")
  int maxNewTokens;

  // left out: unset in the requests, so generation_config.json decides (else greedy), as in the job
  @Option(names = "--temperature", paramLabel = "<number>",
      description = "Text format: the sampling temperature; 0 is greedy. Default: generation_config.json, else 0.")
  Float temperature;

  @Option(names = "--top-p", paramLabel = "<number>",
      description = "Text format: the nucleus mass. Default: generation_config.json, else 1.")
  Float topP;

  @Option(names = "--top-k", paramLabel = "<n>",
      description = "Text format: keep the k most likely tokens; 0 is off. Default: generation_config.json, else 0.")
  Integer topK;

  @Option(names = "--seed", defaultValue = "0", paramLabel = "<n>",
      description = "Text format: the sampling seed. Default: ${DEFAULT-VALUE}.")
  long seed;

  @Option(names = "--progress", defaultValue = "auto", paramLabel = "<mode>",
      description = "auto (a redrawn line on a terminal, plain lines otherwise), terminal, plain or off."
          + " Default: ${DEFAULT-VALUE}.")
  String progress;

  @Option(names = "--progress-interval", defaultValue = "10", paramLabel = "<seconds>",
      description = "Seconds between plain progress lines. Default: ${DEFAULT-VALUE}.")
  double progressInterval;

  @Override
  public Integer call() throws Exception {
    CorpusFormat corpusFormat = CorpusFormat.parse(format);
    CorpusRun.ProgressMode mode = progressMode();
    if (progressInterval <= 0) {
      throw new IllegalArgumentException("--progress-interval must be > 0, found " + progressInterval);
    }
    JobConfig jobConfig = loader().build();
    PromptDefaults defaults = new PromptDefaults(maxNewTokens, temperature, topP, topK, seed);
    CorpusRun run = new CorpusRun(input, output, corpusFormat, defaults, jobConfig, System.err);
    CorpusRun.Result result = run.run(StreamExecutionEnvironment.getExecutionEnvironment(), mode,
        Duration.ofMillis(Math.round(progressInterval * 1000)));
    System.err.println("moestream corpus: " + result.finished() + " of " + result.total() + " records answered ("
        + result.generations() + " generations, " + result.deadLetters() + " dead letters) in "
        + output.toAbsolutePath().normalize());
    var summary = new ObjectMapper().createObjectNode().put("total", result.total()).put("answered", result.finished())
        .put("generations", result.generations()).put("dead_letters", result.deadLetters())
        .put("output", output.toAbsolutePath().normalize().toString());
    System.out.println(summary);
    if (!result.complete()) {
      System.err.println("moestream corpus: error: " + (result.total() - result.finished())
          + " records have no answer; run the same command again to finish them");
      return 1;
    }
    return 0;
  }

  private CorpusRun.ProgressMode progressMode() {
    try {
      return CorpusRun.ProgressMode.valueOf(progress.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--progress must be auto, terminal, plain or off, found '" + progress + "'");
    }
  }

  /**
   * Defaults, then --config, then the options, then --set: as `run` layers them. One default differs:
   * the full model ({@code experts.policy: full}). A batch run is behind by design (its whole input is
   * waiting), so the adaptive policy would always step down; there is no latency to save.
   */
  private JobConfigLoader loader() {
    return pipeline.layer(JobConfigLoader.defaults().set("experts.policy", "full"), loader -> { });
  }
}
