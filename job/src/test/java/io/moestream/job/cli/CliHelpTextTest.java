package io.moestream.job.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Every command's help reads as prose: a summary that is a whole sentence, descriptions that picocli
 * wraps (no hard break inside a sentence), and every option and positional described, with a value
 * label from the CLI's vocabulary rather than a Java field name. Collects every fault before failing,
 * so one run lists them all.
 */
class CliHelpTextTest {
  /** The value labels of the CLI: what a reader sees after an option name. A new concept goes here. */
  static final Set<String> VOCABULARY = Set.of(
      "<n>", "<number>", "<ms>", "<seconds>", "<port>",
      "<file>", "<dir>", "<path>", "<url>", "<host:port>", "<topic>", "<group>",
      "<policy>", "<policies>", "<phases>", "<ids>", "<text>", "<json>", "<key=value>", "<section.field=value>",
      "<format>", "<mode>", "<backend>", "<kernels>", "<arch>", "<dtype>", "<size>", "<method>");

  /** What the command list has room for beside the longest command name at 80 columns. */
  private static final int SUMMARY_WIDTH = 60;

  private static final Pattern CAMEL_CASE = Pattern.compile("[a-z][a-z0-9]*[A-Z][A-Za-z0-9]*");
  private static final Pattern SENTENCE_END = Pattern.compile(".*[.!?]\\)?$", Pattern.DOTALL);

  private final List<String> faults = new ArrayList<>();

  @Test
  void everyCommandReadsAsProse() {
    CommandLine root = MoestreamCli.commandLine();
    check(root.getCommandSpec());
    assertTrue(root.getSubcommands().size() >= 20, "subcommands found: " + root.getSubcommands().keySet());
    for (CommandLine sub : root.getSubcommands().values()) {
      if (!(sub.getCommand() instanceof CommandLine.HelpCommand)) { // picocli's own, not ours to word
        check(sub.getCommandSpec());
      }
    }
    assertTrue(faults.isEmpty(), faults.size() + " faults:\n" + String.join("\n", faults));
  }

  @Test
  void theCommandListShowsEverySummaryWhole() {
    CommandLine root = MoestreamCli.commandLine();
    String help = root.getUsageMessage();
    String list = help.substring(help.indexOf("Commands:"));
    for (CommandLine sub : root.getSubcommands().values()) {
      if (sub.getCommand() instanceof CommandLine.HelpCommand) {
        continue;
      }
      String summary = sub.getCommandSpec().usageMessage().description()[0];
      // the entry: from the command's name to the next line that starts a command
      int start = list.indexOf("\n  " + sub.getCommandName() + " ");
      assertTrue(start >= 0, sub.getCommandName() + " not listed:\n" + list);
      int end = list.indexOf("\n  ", start + 1);
      while (end >= 0 && list.charAt(end + 3) == ' ') {
        end = list.indexOf("\n  ", end + 1); // a wrapped line is indented further
      }
      String entry = list.substring(start, end < 0 ? list.length() : end).strip()
          .substring(sub.getCommandName().length());
      assertEquals(summary.replaceAll("\\s", ""), entry.replaceAll("\\s", ""), sub.getCommandName());
    }
  }

  @Test
  void theCheckFindsWhatItLooksFor() {
    @CommandLine.Command(name = "bad", description = {"Prints the logits as ONE JSON object on stdout:",
        "{\"logits\": ...}, one row per", "position."})
    class Bad {
      @CommandLine.Option(names = "--bootstrap-servers") String bootstrapServers;
      @CommandLine.Option(names = "--out", paramLabel = "<outputFile>", description = "Output") String out;
    }
    check(new CommandLine(new Bad()).getCommandSpec());
    assertEquals(List.of(
        "bad: the summary does not end a sentence: 'Prints the logits as ONE JSON object on stdout:'",
        "bad: a description line breaks a sentence: '{\"logits\": ...}, one row per'",
        "bad --bootstrap-servers: no description",
        "bad --bootstrap-servers: the label <bootstrapServers> is a Java name (camelCase)",
        "bad --out: the description does not end a sentence: 'Output'",
        "bad --out: the label <outputFile> is a Java name (camelCase)"), faults);
  }

  private void check(CommandSpec command) {
    String name = command.qualifiedName(" ").replaceFirst("^moestream ", "");
    String[] description = command.usageMessage().description();
    if (description.length == 0) {
      faults.add(name + ": no description");
    } else {
      if (description[0].startsWith("%n") || !SENTENCE_END.matcher(description[0]).matches()) {
        faults.add(name + ": the summary does not end a sentence: '" + description[0] + "'");
      }
      if (command.parent() != null && description[0].length() > SUMMARY_WIDTH) {
        faults.add(name + ": the summary takes more than one line of the command list (" + SUMMARY_WIDTH
            + " characters): '" + description[0] + "'");
      }
      for (int i = 1; i < description.length; i++) {
        for (String paragraph : description[i].split("%n")) {
          if (!paragraph.isBlank() && !SENTENCE_END.matcher(paragraph).matches()) {
            faults.add(name + ": a description line breaks a sentence: '" + paragraph + "'");
          }
        }
      }
    }
    List<ArgSpec> args = new ArrayList<>(command.options());
    args.addAll(command.positionalParameters());
    for (ArgSpec arg : args) {
      String argName = name + " " + (arg instanceof OptionSpec o ? o.longestName() : "positional " + arg.paramLabel());
      String[] lines = arg.description();
      if (lines.length == 0 || String.join("", lines).isBlank()) {
        faults.add(argName + ": no description");
      }
      for (String line : lines) {
        if (!line.isBlank() && !SENTENCE_END.matcher(line).matches()) {
          faults.add(argName + ": the description does not end a sentence: '" + line + "'");
        }
      }
      if (arg.typeInfo().isBoolean() || (arg instanceof OptionSpec o && o.usageHelp() || arg instanceof OptionSpec v
          && v.versionHelp())) {
        continue; // a flag shows no label
      }
      String label = arg.paramLabel();
      String bare = label.replaceAll("^<|>$", "");
      if (CAMEL_CASE.matcher(bare).matches()) {
        faults.add(argName + ": the label " + label + " is a Java name (camelCase)");
      } else if (!VOCABULARY.contains(label)) {
        faults.add(argName + ": the label " + label + " is not in the CLI's vocabulary " + VOCABULARY);
      }
    }
  }
}
