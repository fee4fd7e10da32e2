package io.moestream.job.cli;

import picocli.CommandLine;

final class VersionProvider implements CommandLine.IVersionProvider {
  @Override
  public String[] getVersion() {
    String version = MoestreamCli.class.getPackage().getImplementationVersion();
    return new String[] {
      "moestream " + (version == null ? "development build" : version),
      "Java " + Runtime.version() + " (" + System.getProperty("java.vm.name") + ")"
    };
  }
}
