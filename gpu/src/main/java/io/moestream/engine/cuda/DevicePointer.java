package io.moestream.engine.cuda;

import jcuda.driver.CUdeviceptr;

/**
 * A device address whose raw value can be read: pointer tables (the grouped GEMMs' weight sets) and
 * kernel arguments are passed as 64-bit addresses, so no launch depends on how JCuda marshals
 * pointers. cuMemAlloc fills it like any {@link CUdeviceptr}; {@link #plus} keeps JCuda's byte offset
 * too (what {@link CUdeviceptr#withByteOffset} does), so it also works in cuMemcpy* calls.
 */
final class DevicePointer extends CUdeviceptr {

  DevicePointer() {}

  private DevicePointer(DevicePointer base, long bytes) {
    super(base, bytes);
  }

  /** The device address: allocation base plus byte offset. */
  long address() {
    return getNativePointer() + getByteOffset();
  }

  /** The address {@code bytes} further into the same allocation. */
  DevicePointer plus(long bytes) {
    return new DevicePointer(this, bytes);
  }
}
