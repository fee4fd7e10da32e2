package io.moestream.job.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point of the {@code ./moestream} launcher: one subcommand per task. */
@Command(
    name = "moestream",
    mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    description = "Serve fine-grained Mixture-of-Experts LLMs; engine tools and the Flink job.",
    subcommands = {
      LogitsCommand.class,
      GenerateCommand.class,
      MakeTestModelCommand.class,
      BenchDecodeCommand.class,
      ModelInfoCommand.class,
      ProfileExpertsCommand.class, EvalQualityCommand.class, BenchLoadCommand.class, BenchRampCommand.class, BenchPipelineCommand.class,
      BenchSoakCommand.class,
      TokenizeCommand.class, DetokenizeCommand.class, BenchTokenizeCommand.class,
      DemoCommand.class, LocalKafkaCommand.class,
      RunCommand.class,
      CorpusCommand.class,
      ProduceCommand.class,
      ConsumeCommand.class,
      CommandLine.HelpCommand.class,
    })
public final class MoestreamCli implements Runnable {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.err);
  }

  public static void main(String[] args) {
    System.exit(execute(args));
  }

  /** Runs a command line and returns its exit code (usage errors: 2, failures: 1). */
  public static int execute(String... args) {
    CommandLine cli = new CommandLine(new MoestreamCli());
    cli.setExecutionExceptionHandler(new CliErrors());
    return cli.execute(args);
  }
}
