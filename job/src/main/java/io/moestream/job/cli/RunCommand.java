package io.moestream.job.cli;

import io.moestream.job.config.JobConfig;
import io.moestream.job.pipeline.InferencePipeline;
import java.io.File;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "run",
    description = {"Runs the streaming job against an external Kafka.",
        "%nWith --jobmanager the job is submitted to that Flink cluster's REST address and this jar is shipped with"
            + " it; without it the job runs in a Flink cluster inside this process. The configuration is checked"
            + " before anything is submitted."})
final class RunCommand implements Callable<Integer> {
  @Mixin JobConfigOptions options;

  @Option(names = "--jobmanager", paramLabel = "<host:port>",
      description = "REST address of the Flink cluster, e.g. 127.0.0.1:8081.")
  String jobManager;

  @Option(names = "--detached", description = "Return once the job is submitted, printing its id.")
  boolean detached;

  @Override
  public Integer call() throws Exception {
    JobConfig config = options.loader().build();
    StreamExecutionEnvironment env = jobManager == null
        ? StreamExecutionEnvironment.getExecutionEnvironment()
        : remote(jobManager);
    InferencePipeline.define(env, config);
    JobClient job = env.executeAsync(config.flink().jobName());
    System.err.println("moestream run: submitted job " + job.getJobID() + " (" + config.flink().jobName() + ")");
    System.out.println(job.getJobID());
    if (detached) {
      return 0;
    }
    job.getJobExecutionResult().get();
    return 0;
  }

  private static StreamExecutionEnvironment remote(String address) {
    int colon = address.lastIndexOf(':');
    if (colon <= 0) {
      throw new IllegalArgumentException("--jobmanager must be HOST:PORT, found '" + address + "'");
    }
    int port;
    try {
      port = Integer.parseInt(address.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("--jobmanager must be HOST:PORT, found '" + address + "'");
    }
    return StreamExecutionEnvironment.createRemoteEnvironment(address.substring(0, colon), port, new Configuration(),
        thisJar());
  }

  /** The jar this command runs from: it holds the job's classes. */
  static String thisJar() {
    try {
      File jar = Path.of(RunCommand.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toFile();
      if (!jar.isFile()) {
        throw new IllegalStateException("--jobmanager needs the command to run from the moestream jar, not " + jar);
      }
      return jar.getAbsolutePath();
    } catch (java.net.URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }
}
