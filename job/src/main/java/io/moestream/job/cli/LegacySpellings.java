package io.moestream.job.cli;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParseResult;

/**
 * Option spellings the CLI had before its vocabulary was made one ({@code --input} for input files,
 * {@code --output} for outputs, {@code --max-new-tokens} for generated-token counts, {@code --policies}
 * for policy lists). Scripts written against them keep working: each old spelling is a hidden option
 * of its command with the new one's type, and after parsing its value is moved to the new option.
 * Giving both spellings is an error rather than a silent choice. A required option cannot be left to
 * picocli's check (the old spelling alone would fail it), so this class checks it instead.
 */
final class LegacySpellings {
  /** One old spelling: {@code command old} means {@code command now}. */
  record Alias(String command, String old, String now) {}

  static final List<Alias> ALIASES = List.of(
      new Alias("bench-decode", "--tokens", "--max-new-tokens"),
      new Alias("bench-load", "--new-tokens", "--max-new-tokens"),
      new Alias("bench-load", "--policy", "--policies"),
      new Alias("demo", "--prompts", "--input"),
      new Alias("produce", "--file", "--input"),
      new Alias("profile-experts", "--out", "--output"),
      new Alias("make-test-model", "--out", "--output"));

  /** The aliases whose new option is required: one of the two spellings must be given. */
  private final Set<Alias> required = new HashSet<>();

  private LegacySpellings() {}

  /** Adds every old spelling to its command, hidden from the help. */
  static LegacySpellings install(CommandLine root) {
    LegacySpellings spellings = new LegacySpellings();
    for (Alias alias : ALIASES) {
      CommandLine command = root.getSubcommands().get(alias.command());
      if (command == null) {
        throw new IllegalStateException("old spelling " + alias.old() + ": no command " + alias.command());
      }
      CommandSpec spec = command.getCommandSpec();
      OptionSpec now = spec.findOption(alias.now());
      if (now == null || now.isMultiValue()) {
        throw new IllegalStateException(alias.command() + " " + alias.old() + ": " + alias.now()
            + " is not a single-valued option of the command");
      }
      if (now.required()) {
        spec.remove(now);
        spec.addOption(now.toBuilder().required(false).build());
        spellings.required.add(alias);
      }
      spec.addOption(OptionSpec.builder(alias.old())
          .hidden(true)
          .type(now.type())
          .arity(now.arity().originalValue())
          .paramLabel(now.paramLabel())
          .description("Old spelling of " + alias.now() + ".")
          .build());
    }
    return spellings;
  }

  /**
   * Moves each old spelling's value to its new option, on the command that was parsed; before the
   * command runs.
   *
   * @throws CommandLine.ParameterException when a command line gives both spellings, or neither of a
   *     required option
   */
  void resolve(ParseResult parsed) {
    boolean helpOnly = false; // --help and --version need no required option
    for (ParseResult command = parsed; command != null; command = command.subcommand()) {
      helpOnly |= command.isUsageHelpRequested() || command.isVersionHelpRequested();
      String name = command.commandSpec().name();
      CommandLine commandLine = command.commandSpec().commandLine();
      for (Alias alias : ALIASES) {
        if (!alias.command().equals(name)) {
          continue;
        }
        OptionSpec now = command.commandSpec().findOption(alias.now());
        boolean oldGiven = command.hasMatchedOption(alias.old());
        boolean nowGiven = command.hasMatchedOption(alias.now());
        if (oldGiven && nowGiven) {
          throw new CommandLine.ParameterException(commandLine,
              "give " + alias.now() + " or its old spelling " + alias.old() + ", not both");
        }
        if (oldGiven) {
          now.setValue(command.matchedOption(alias.old()).getValue());
        } else if (!nowGiven && !helpOnly && required.contains(alias)) {
          throw new CommandLine.MissingParameterException(commandLine, now,
              "Missing required option: '" + alias.now() + "=" + now.paramLabel() + "'");
        }
      }
    }
  }
}
