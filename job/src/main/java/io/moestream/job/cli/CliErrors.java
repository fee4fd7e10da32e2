package io.moestream.job.cli;

import picocli.CommandLine;

/**
 * Turns exceptions escaping a command into one readable line on stderr and exit code 1. Errors of
 * the engine already name the file, tensor or field at fault, so the message is the useful part; the
 * stack trace is printed only with MOESTREAM_DEBUG=1.
 */
final class CliErrors implements CommandLine.IExecutionExceptionHandler {
  @Override
  public int handleExecutionException(
      Exception ex, CommandLine commandLine, CommandLine.ParseResult parseResult) {
    String message = ex.getMessage() == null ? ex.getClass().getName() : ex.getMessage();
    commandLine.getErr().println("moestream " + commandLine.getCommandName() + ": error: " + message);
    if ("1".equals(System.getenv("MOESTREAM_DEBUG"))) {
      ex.printStackTrace(commandLine.getErr());
    }
    return 1;
  }
}
