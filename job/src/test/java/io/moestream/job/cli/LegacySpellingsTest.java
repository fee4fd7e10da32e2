package io.moestream.job.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParseResult;

/** Old option spellings still parse to the value the new spelling gives, and stay out of the help. */
class LegacySpellingsTest {
  /** Options a command needs before it parses at all (its required ones), beside the spelling tested. */
  private static List<String> needed(String command) {
    return switch (command) {
      case "bench-decode", "bench-load" -> List.of("--model", "m");
      case "profile-experts" -> List.of("--model", "m", "--input", "text.txt");
      case "produce" -> List.of("--bootstrap-servers", "127.0.0.1:9092");
      default -> List.of();
    };
  }

  /** A value of the option's type that differs from its default. */
  private static String sample(LegacySpellings.Alias alias) {
    return switch (alias.now()) {
      case "--max-new-tokens" -> "7";
      case "--policies" -> "fixed:2,schedule:1,4,4,2,adaptive";
      default -> "some/file.jsonl";
    };
  }

  private static Object valueOf(String option, String command, String... args) {
    List<String> line = new ArrayList<>(List.of(command));
    line.addAll(needed(command));
    line.addAll(List.of(args));
    ParseResult parsed = MoestreamCli.parse(line.toArray(String[]::new)).subcommand();
    return parsed.commandSpec().findOption(option).getValue();
  }

  @Test
  void everyOldSpellingGivesTheNewOnesValue() {
    assertEquals(7, LegacySpellings.ALIASES.size());
    for (LegacySpellings.Alias alias : LegacySpellings.ALIASES) {
      String value = sample(alias);
      Object viaNew = valueOf(alias.now(), alias.command(), alias.now(), value);
      Object viaOld = valueOf(alias.now(), alias.command(), alias.old(), value);
      assertEquals(viaNew, viaOld, alias.toString());
      Object byDefault = valueOf(alias.now(), alias.command(), "--help");
      assertTrue(!viaOld.equals(byDefault), alias + ": the sample equals the default, the test proves nothing");
    }
  }

  @Test
  void oldSpellingsAreHiddenFromTheHelp() {
    CommandLine cli = MoestreamCli.commandLine();
    for (LegacySpellings.Alias alias : LegacySpellings.ALIASES) {
      CommandSpec spec = cli.getSubcommands().get(alias.command()).getCommandSpec();
      assertTrue(spec.findOption(alias.old()).hidden(), alias.toString());
      String help = cli.getSubcommands().get(alias.command()).getUsageMessage();
      assertTrue(help.contains(alias.now()) && !help.contains(alias.old() + "="), alias + "\n" + help);
    }
  }

  @Test
  void bothSpellingsTogetherAreRefused() {
    CommandLine.ParameterException e = assertThrows(CommandLine.ParameterException.class,
        () -> MoestreamCli.parse("make-test-model", "--output", "a", "--out", "b"));
    assertEquals("give --output or its old spelling --out, not both", e.getMessage());
  }

  @Test
  void aRequiredOptionIsMetByEitherSpellingOnly() {
    assertEquals(Path.of("a"), valueOf("--output", "make-test-model", "--out", "a"));
    CommandLine.ParameterException e = assertThrows(CommandLine.MissingParameterException.class,
        () -> MoestreamCli.parse("make-test-model", "--arch", "qwen3_moe"));
    assertEquals("Missing required option: '--output=<dir>'", e.getMessage());
    assertEquals(2, MoestreamCli.execute("make-test-model", "--arch", "qwen3_moe"), "a usage error, as before");
  }

  @Test
  void theOldTokenIdsFlagReadsInputAsIds(@TempDir Path dir) throws Exception {
    Path ids = dir.resolve("ids.txt");
    Files.writeString(ids, "5 17, 42\n7");
    for (String command : List.of("profile-experts", "eval-quality")) {
      ParseResult old = MoestreamCli.parse(command, "--model", dir.toString(), "--input", ids.toString(),
          "--token-ids-file").subcommand();
      ParseResult now = MoestreamCli.parse(command, "--model", dir.toString(), "--input-token-ids", ids.toString())
          .subcommand();
      int[] viaOld = inputOf(old).read(dir, (Boolean) old.commandSpec().findOption("--token-ids-file").getValue());
      int[] viaNew = inputOf(now).read(dir, false);
      assertEquals(List.of(5, 17, 42, 7), java.util.Arrays.stream(viaNew).boxed().toList(), command);
      assertEquals(java.util.Arrays.toString(viaNew), java.util.Arrays.toString(viaOld), command);
      assertThrows(CommandLine.ParameterException.class, () -> MoestreamCli.parse(command, "--model", "m", "--input",
          "a", "--input-token-ids", "b"), command + ": the two inputs exclude each other");
    }
  }

  /** The command's input group, as picocli filled it. */
  private static TokenInput inputOf(ParseResult command) {
    Object object = command.commandSpec().userObject();
    TokenInput input = object instanceof ProfileExpertsCommand p ? p.input : ((EvalQualityCommand) object).input;
    assertNotNull(input);
    return input;
  }

  @Test
  void anOldSpellingRunsEndToEnd(@TempDir Path dir) {
    Path model = dir.resolve("m");
    assertEquals(0, MoestreamCli.execute("make-test-model", "--arch", "qwen3_moe", "--out", model.toString(),
        "--num-layers", "1", "--hidden-size", "32", "--num-heads", "2", "--vocab-size", "64"));
    assertTrue(Files.isRegularFile(model.resolve("config.json")));
  }
}
