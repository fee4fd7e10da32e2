package io.moestream.engine.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class LaunchGeometryTest {

  @Test
  void blocksCoverTheElements() {
    assertEquals(1, LaunchGeometry.blocksFor(0, 256));
    assertEquals(1, LaunchGeometry.blocksFor(256, 256));
    assertEquals(2, LaunchGeometry.blocksFor(257, 256));
  }

  @Test
  void partitionsShrinkWhenFewTasksMeetALongContext() {
    // one decode token x 32 heads over 32k keys on 132 SMs: smallest partitions, most parallelism
    assertEquals(512, LaunchGeometry.decodePartitionSize(32, 32768, 132));
    assertEquals(64, LaunchGeometry.decodePartitionSize(32, 256, 132)); // 4 partitions each: 128 blocks <= 264
    assertEquals(128, LaunchGeometry.decodePartitionSize(64, 512, 132)); // 64 x 4 = 256 <= 264
    assertEquals(512, LaunchGeometry.decodePartitionSize(256 * 32, 4096, 132)); // a big batch: few, large partitions
  }

  @Test
  void attentionShapeLimitsNameTheValue() {
    LaunchGeometry.checkAttentionShape(128, 32, 4);
    assertThrows(IllegalArgumentException.class, () -> LaunchGeometry.checkAttentionShape(320, 32, 4));
    assertThrows(IllegalArgumentException.class, () -> LaunchGeometry.checkAttentionShape(80, 32, 4));
    assertThrows(IllegalArgumentException.class, () -> LaunchGeometry.checkAttentionShape(128, 30, 4));
  }
}
