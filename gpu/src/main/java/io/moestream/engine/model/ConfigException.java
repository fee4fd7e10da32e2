package io.moestream.engine.model;

/** A config.json (or generation_config.json) that the engine cannot run; the message names file and field. */
public class ConfigException extends RuntimeException {
  public ConfigException(String message) {
    super(message);
  }

  public ConfigException(String message, Throwable cause) {
    super(message, cause);
  }
}
