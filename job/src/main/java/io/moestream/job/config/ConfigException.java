package io.moestream.job.config;

/** A configuration problem, found before anything is submitted; the message names the field. */
public final class ConfigException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  public ConfigException(String field, String problem) {
    super("configuration field '" + field + "': " + problem);
  }
}
