package io.moestream.engine.cuda;

import static jcuda.driver.JCudaDriver.cuMemsetD32;

import io.moestream.engine.kv.PagedKvCache;

/**
 * The KV pages on the device, in the layout of {@link PagedKvCache} (per layer, (numBlocks * blockSize,
 * kvDim) keys and as many values, float32). The host {@link PagedKvCache} keeps doing the bookkeeping
 * (free blocks, block tables, reservation by the engine); its own arrays are not used by this backend.
 */
final class DeviceKvCache {
  record Layer(DevicePointer keys, DevicePointer values) {}

  private final Layer[] layers;

  DeviceKvCache(PagedKvCache host, DeviceMemory memory) {
    if (host.keyWidth() != host.valueWidth()) {
      throw new IllegalArgumentException("the CUDA backend caches keys and values of one width; found "
          + host.keyWidth() + " and " + host.valueWidth());
    }
    long floats = (long) host.numBlocks() * host.blockSize() * host.keyWidth();
    this.layers = new Layer[host.numLayers()];
    for (int i = 0; i < layers.length; i++) {
      DevicePointer keys = memory.alloc(floats * Float.BYTES);
      DevicePointer values = memory.alloc(floats * Float.BYTES);
      cuMemsetD32(keys, 0, floats);
      cuMemsetD32(values, 0, floats);
      layers[i] = new Layer(keys, values);
    }
  }

  Layer layer(int index) {
    return layers[index];
  }
}
