package io.moestream.job.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;
import picocli.CommandLine;

/**
 * {@code --version}: the project version the jar was built from. Maven writes it into every jar it
 * builds ({@link #POM_PROPERTIES}) and the shaded jars keep that file, so the line is whatever the
 * build's pom said, never a string kept here. Classes run from a build folder (tests, an IDE) have no
 * such file and say so.
 */
final class VersionProvider implements CommandLine.IVersionProvider {
  static final String POM_PROPERTIES = "/META-INF/maven/io.moestream/moestream-job/pom.properties";

  @Override
  public String[] getVersion() {
    return new String[] {
      "moestream " + version(),
      "Java " + Runtime.version() + " (" + System.getProperty("java.vm.name") + ")"
    };
  }

  /** The jar manifest's Implementation-Version, else the Maven build's version, else a note. */
  static String version() {
    String manifest = MoestreamCli.class.getPackage().getImplementationVersion();
    if (manifest != null) {
      return manifest;
    }
    try (InputStream in = MoestreamCli.class.getResourceAsStream(POM_PROPERTIES)) {
      String version = in == null ? null : fromPomProperties(in);
      return version != null ? version : "development build (not run from a Maven-built jar)";
    } catch (IOException e) {
      throw new UncheckedIOException("reading " + POM_PROPERTIES + " in the jar", e);
    }
  }

  /** The {@code version} of a Maven pom.properties file (null when it has none). */
  static String fromPomProperties(InputStream in) throws IOException {
    Properties properties = new Properties();
    properties.load(in);
    String version = properties.getProperty("version");
    return version == null || version.isBlank() ? null : version.trim();
  }
}
