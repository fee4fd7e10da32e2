package io.moestream.job.cli;

import io.moestream.job.config.JobConfig;
import io.moestream.job.pipeline.InferencePipeline;
import java.net.URISyntaxException;
import java.nio.file.Files;
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
        "%nWith --jobmanager the job is submitted to that Flink cluster's REST address, uploading moestream-job.jar"
            + " (the slim job jar the build writes next to this one, or --job-jar); without it the job runs in a"
            + " Flink cluster inside this process. The configuration is checked before anything is submitted."})
final class RunCommand implements Callable<Integer> {
  /** The job module's cluster-job-jar shade execution writes it next to the launcher jar, moestream.jar. */
  static final String JOB_JAR_NAME = "moestream-job.jar";

  @Mixin JobConfigOptions options;

  @Option(names = "--jobmanager", paramLabel = "<host:port>",
      description = "REST address of the Flink cluster, e.g. 127.0.0.1:8081.")
  String jobManager;

  @Option(names = "--job-jar", paramLabel = "<file>", description = "The job jar --jobmanager uploads (default: "
      + JOB_JAR_NAME + " next to the jar this command runs from, which the build writes to job/target).")
  Path jobJar;

  @Option(names = "--detached", description = "Return once the job is submitted, printing its id.")
  boolean detached;

  @Override
  public Integer call() throws Exception {
    JobConfig config = options.loader().build();
    StreamExecutionEnvironment env = jobManager == null
        ? StreamExecutionEnvironment.getExecutionEnvironment()
        : remote(jobManager, jobJar(jobJar, codeSource()).toString());
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

  private static StreamExecutionEnvironment remote(String address, String jar) {
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
        jar);
  }

  /**
   * The jar shipped to the cluster with the job: {@code given} (--job-jar), else moestream-job.jar
   * next to {@code codeSource}, the jar this command runs from. Never the launcher jar itself: it
   * carries Flink, the demo's Kafka broker and JCuda, which a session cluster provides or must not
   * load from a job's classloader (docs/SUBMITTING.md).
   */
  static Path jobJar(Path given, Path codeSource) {
    Path jar;
    if (given != null) {
      jar = given;
    } else if (Files.isRegularFile(codeSource)) {
      jar = codeSource.resolveSibling(JOB_JAR_NAME);
    } else {
      throw new IllegalArgumentException("--jobmanager uploads " + JOB_JAR_NAME + ", found next to moestream.jar; this "
          + "command runs from " + codeSource + ", not a jar: name the job jar with --job-jar FILE");
    }
    if (!Files.isRegularFile(jar)) {
      throw new IllegalArgumentException("--jobmanager uploads the job jar " + jar.toAbsolutePath() + ", which does not "
          + "exist: build it with `mvn -DskipTests -pl job -am package` (./moestream does when a source changed)"
          + (given == null ? "" : ", or correct --job-jar"));
    }
    return jar.toAbsolutePath();
  }

  /** Where this command's classes come from: moestream.jar, or a classes folder in tests and IDEs. */
  private static Path codeSource() {
    try {
      return Path.of(RunCommand.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }
}
