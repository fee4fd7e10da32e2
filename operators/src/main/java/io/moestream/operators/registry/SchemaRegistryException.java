package io.moestream.operators.registry;

/**
 * The schema registry could not be asked (down, unreachable, refused the credentials, failed): not a
 * property of one record, so it fails the task instead of dead-lettering records one by one.
 */
public final class SchemaRegistryException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public SchemaRegistryException(String message) {
    super(message);
  }

  public SchemaRegistryException(String message, Throwable cause) {
    super(message, cause);
  }
}
