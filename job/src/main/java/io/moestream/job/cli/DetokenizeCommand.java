package io.moestream.job.cli;

import io.moestream.engine.tokenizer.Tokenizer;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "detokenize",
    description = {"Prints the text of token ids.", "%nThe model folder needs only tokenizer.json."})
final class DetokenizeCommand implements Callable<Integer> {
  @Option(names = "--model", required = true, paramLabel = "<dir>", description = "Folder with tokenizer.json.")
  Path model;

  @Option(names = "--token-ids", required = true, paramLabel = "<ids>",
      description = "Comma-separated token ids, e.g. 9707,11,1879.")
  String tokenIds;

  @Option(names = "--skip-special-tokens", description = "Leave out special tokens such as <|im_end|>.")
  boolean skipSpecialTokens;

  @Override
  public Integer call() {
    int[] ids = TokenIds.parse(tokenIds, "--token-ids");
    Tokenizer tokenizer = Tokenizer.load(model);
    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    out.println(tokenizer.decode(ids, skipSpecialTokens));
    return 0;
  }
}
