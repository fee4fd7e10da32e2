package io.moestream.job.pipeline;

import io.moestream.job.config.JobConfig;
import io.moestream.job.config.JobConfigLoader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * Entry class for submitting the job jar from the Flink dashboard or {@code flink run}:
 * program arguments {@code --config FILE} and any number of {@code section.field=value}.
 */
public final class StreamingJob {
  private StreamingJob() {}

  public static void main(String[] args) throws Exception {
    JobConfigLoader loader = JobConfigLoader.defaults();
    List<String> overrides = new ArrayList<>();
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--config") && i + 1 < args.length) {
        loader.file(Path.of(args[++i]));
      } else {
        overrides.add(args[i]);
      }
    }
    JobConfig config = loader.overrides(overrides).build();
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    InferencePipeline.define(env, config);
    env.execute(config.flink().jobName());
  }
}
