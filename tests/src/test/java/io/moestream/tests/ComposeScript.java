package io.moestream.tests;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** A script of the compose stack run with bash, its output (stdout and stderr) kept. */
record ComposeScript(int exit, String output) {
  static ComposeScript run(Path script, Map<String, String> env) throws Exception {
    ProcessBuilder builder = new ProcessBuilder("bash", script.toString()).redirectErrorStream(true);
    builder.environment().putAll(env);
    Process process = builder.start();
    CompletableFuture<String> output = CompletableFuture.supplyAsync(() -> {
      try {
        return new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      } catch (IOException e) {
        return "(output unreadable: " + e + ")";
      }
    });
    if (!process.waitFor(4, TimeUnit.MINUTES)) {
      process.descendants().forEach(ProcessHandle::destroyForcibly);
      process.destroyForcibly();
      throw new AssertionError(script + " did not finish in 4 minutes: " + output.getNow("(no output yet)"));
    }
    return new ComposeScript(process.exitValue(), script.getFileName() + " exited " + process.exitValue() + ":\n"
        + output.get());
  }
}
