package io.moestream.job.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.ScopeType;

/**
 * Entry point of the {@code ./moestream} launcher: one subcommand per task. The help options, the
 * version and the usage width (the terminal's, 80 columns when there is none) are inherited by every
 * subcommand ({@code scope = INHERIT}).
 */
@Command(
    name = "moestream",
    scope = ScopeType.INHERIT,
    mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    usageHelpAutoWidth = true,
    description = "Serve fine-grained Mixture-of-Experts LLMs: engine tools, benchmarks and the Flink job.",
    subcommands = {
      LogitsCommand.class,
      GenerateCommand.class,
      MakeTestModelCommand.class,
      BenchDecodeCommand.class,
      ModelInfoCommand.class,
      ProfileExpertsCommand.class, EvalQualityCommand.class, BenchQualityCommand.class, BenchLoadCommand.class, BenchRampCommand.class, BenchPipelineCommand.class,
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
  /** Room for an option and its label before the description column: most fit, e.g. --max-new-tokens=<n>. */
  private static final int LONG_OPTIONS_WIDTH = 30;

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
    return commandLine().execute(args);
  }

  /** Parses a command line as {@link #execute} does, without running the command (for tests). */
  static CommandLine.ParseResult parse(String... args) {
    CommandLine cli = new CommandLine(new MoestreamCli());
    LegacySpellings spellings = LegacySpellings.install(cli);
    CommandLine.ParseResult parsed = cli.parseArgs(args);
    spellings.resolve(parsed);
    return parsed;
  }

  /** The command line as {@link #execute} runs it: old option spellings accepted, errors on one line. */
  static CommandLine commandLine() {
    CommandLine cli = new CommandLine(new MoestreamCli());
    LegacySpellings spellings = LegacySpellings.install(cli);
    cli.setUsageHelpLongOptionsMaxWidth(LONG_OPTIONS_WIDTH);
    cli.setExecutionExceptionHandler(new CliErrors());
    CommandLine.IExecutionStrategy runLast = new CommandLine.RunLast();
    cli.setExecutionStrategy(parsed -> {
      spellings.resolve(parsed);
      return runLast.execute(parsed);
    });
    return cli;
  }
}
