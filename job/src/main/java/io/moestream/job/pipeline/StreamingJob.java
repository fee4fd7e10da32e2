package io.moestream.job.pipeline;

import io.moestream.job.cli.MoestreamCli;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;

/**
 * Entry class of {@code moestream-job.jar} for a Flink cluster: the dashboard's Submit New Job,
 * {@code POST /jars/<id>/run}, or {@code flink run}. Program arguments are those of
 * {@code ./moestream run} ({@code --model DIR --config FILE --bootstrap-servers ... --set
 * section.field=value ...}; docs/SUBMITTING.md), parsed by that command itself so the two never differ.
 * A bare {@code section.field=value} is read as {@code --set section.field=value}.
 *
 * <p>The cluster runs this main in its own JVM with a context environment, which
 * {@code StreamExecutionEnvironment.getExecutionEnvironment()} returns; the job is submitted to that
 * cluster and this main returns. It never waits for the job's result: a job submitted from the
 * dashboard has none to give ({@code WebSubmissionJobClient}), so {@code --detached} is implied. It
 * never calls {@code System.exit}, which would end the JobManager, and errors are thrown, so the
 * dashboard shows them.
 */
public final class StreamingJob {
  private StreamingJob() {}

  public static void main(String[] args) throws Exception {
    CommandLine cli = new CommandLine(new MoestreamCli());
    CommandLine run = cli.getSubcommands().get("run");
    List<String> arguments = withBareOverridesAsSet(run, args);
    if (arguments.contains("--jobmanager") || arguments.stream().anyMatch(a -> a.startsWith("--jobmanager="))) {
      throw new IllegalArgumentException("--jobmanager is for ./moestream run; a cluster running this entry class "
          + "submits the job to itself");
    }
    if (!arguments.contains("--detached")) {
      arguments.add("--detached");
    }
    arguments.add(0, "run"); // parsed from the top, as picocli expects of a subcommand
    CommandLine.ParseResult parsed;
    try {
      parsed = cli.parseArgs(arguments.toArray(String[]::new)).subcommand();
    } catch (CommandLine.ParameterException e) {
      throw new IllegalArgumentException(e.getMessage() + "\n" + run.getUsageMessage(), e);
    }
    if (parsed.isUsageHelpRequested() || parsed.isVersionHelpRequested()) {
      run.usage(System.out);
      return;
    }
    Callable<Integer> command = run.getCommand();
    command.call();
  }

  /**
   * Reads a bare {@code section.field=value} (this entry class's earlier form, which scripts still
   * pass) as {@code --set section.field=value}; option values are left alone.
   */
  static List<String> withBareOverridesAsSet(CommandLine run, String[] args) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      if (arg.startsWith("-")) {
        out.add(arg);
        CommandLine.Model.OptionSpec option = arg.contains("=") ? null : run.getCommandSpec().findOption(arg);
        if (option != null && option.arity().max() > 0 && i + 1 < args.length) {
          out.add(args[++i]);
        }
      } else if (arg.indexOf('=') > 0) {
        out.add("--set");
        out.add(arg);
      } else {
        out.add(arg);
      }
    }
    return out;
  }
}
