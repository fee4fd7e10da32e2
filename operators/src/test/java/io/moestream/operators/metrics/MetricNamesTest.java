package io.moestream.operators.metrics;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The operators' metric names are distinct: two metrics with one name in one group would make Flink drop
 * the second with a "Name collision" warning, which the launcher's logging settings hide (for the
 * connector's own double registrations, see job/src/main/resources/simplelogger.properties).
 */
class MetricNamesTest {
  @Test
  void everyNameIsUsedOnce() throws IllegalAccessException {
    Map<String, String> fieldByName = new HashMap<>();
    int names = 0;
    for (Field field : MetricNames.class.getDeclaredFields()) {
      if (!Modifier.isStatic(field.getModifiers()) || field.getType() != String.class) {
        continue;
      }
      String name = (String) field.get(null);
      String earlier = fieldByName.putIfAbsent(name, field.getName());
      assertTrue(earlier == null, "'" + name + "' is the value of both " + earlier + " and " + field.getName());
      names++;
    }
    assertTrue(names > 20, "read " + names + " names");
  }
}
