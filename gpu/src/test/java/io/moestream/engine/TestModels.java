package io.moestream.engine;

import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Path;

/** Locates the model folders under src/test/resources/models. */
public final class TestModels {
  private TestModels() {}

  public static Path folder(String name) {
    URL url = TestModels.class.getResource("/models/" + name + "/config.json");
    if (url == null) {
      throw new IllegalStateException("test model " + name + " missing from test resources");
    }
    try {
      return Path.of(url.toURI()).getParent();
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }
}
