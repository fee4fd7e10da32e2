package io.moestream.engine.kernel;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector loads from memory-mapped weights on both JDKs the project runs on.
 *
 * <p>JDK 17's Vector API loads from a {@link ByteBuffer} ({@code fromByteBuffer}); JDK 19 and later
 * removed that in favour of {@code fromMemorySegment}, whose type does not exist on 17. The project is
 * compiled for release 17, so the JDK 22+ path is reached through {@code static final} method handles,
 * which C2 inlines like a direct call (measured: the same GB/s as direct code on a 155 MB BF16 matvec).
 * A weight carries its buffer and, on 22+, a {@code MemorySegment} over the same mapping.
 */
final class VectorLoads {
  private VectorLoads() {}

  private static final MethodHandle INT_FROM_SEGMENT;
  private static final MethodHandle FLOAT_FROM_SEGMENT;
  private static final MethodHandle BYTE_FROM_SEGMENT;
  private static final MethodHandle SHORT_FROM_SEGMENT;
  private static final MethodHandle SEGMENT_OF_BUFFER;
  static final boolean USE_SEGMENTS;

  static {
    MethodHandle intLoad = null;
    MethodHandle floatLoad = null;
    MethodHandle byteLoad = null;
    MethodHandle shortLoad = null;
    MethodHandle ofBuffer = null;
    if (Runtime.version().feature() >= 22) {
      try {
        Class<?> segment = Class.forName("java.lang.foreign.MemorySegment");
        MethodHandles.Lookup lookup = MethodHandles.publicLookup();
        intLoad = lookup.findStatic(IntVector.class, "fromMemorySegment",
                MethodType.methodType(IntVector.class, VectorSpecies.class, segment, long.class, ByteOrder.class))
            .asType(MethodType.methodType(IntVector.class, VectorSpecies.class, Object.class, long.class, ByteOrder.class));
        floatLoad = lookup.findStatic(FloatVector.class, "fromMemorySegment",
                MethodType.methodType(FloatVector.class, VectorSpecies.class, segment, long.class, ByteOrder.class))
            .asType(MethodType.methodType(FloatVector.class, VectorSpecies.class, Object.class, long.class, ByteOrder.class));
        byteLoad = lookup.findStatic(ByteVector.class, "fromMemorySegment",
                MethodType.methodType(ByteVector.class, VectorSpecies.class, segment, long.class, ByteOrder.class))
            .asType(MethodType.methodType(ByteVector.class, VectorSpecies.class, Object.class, long.class, ByteOrder.class));
        shortLoad = lookup.findStatic(ShortVector.class, "fromMemorySegment",
                MethodType.methodType(ShortVector.class, VectorSpecies.class, segment, long.class, ByteOrder.class))
            .asType(MethodType.methodType(ShortVector.class, VectorSpecies.class, Object.class, long.class, ByteOrder.class));
        ofBuffer = lookup.findStatic(segment, "ofBuffer", MethodType.methodType(segment, Buffer.class))
            .asType(MethodType.methodType(Object.class, Buffer.class));
      } catch (ReflectiveOperationException e) {
        throw new ExceptionInInitializerError(
            "Java " + Runtime.version() + " lacks the Vector API's fromMemorySegment: " + e);
      }
    }
    INT_FROM_SEGMENT = intLoad;
    FLOAT_FROM_SEGMENT = floatLoad;
    BYTE_FROM_SEGMENT = byteLoad;
    SHORT_FROM_SEGMENT = shortLoad;
    SEGMENT_OF_BUFFER = ofBuffer;
    USE_SEGMENTS = ofBuffer != null;
  }

  /** The MemorySegment over {@code buffer} on JDK 22+, else null. */
  static Object segmentOf(ByteBuffer buffer) {
    if (!USE_SEGMENTS) {
      return null;
    }
    try {
      return (Object) SEGMENT_OF_BUFFER.invokeExact((Buffer) buffer);
    } catch (Throwable e) {
      throw new IllegalStateException("cannot view a mapped buffer as a memory segment", e);
    }
  }

  static IntVector ints(VectorSpecies<Integer> species, ByteBuffer buffer, Object segment, long byteOffset) {
    if (USE_SEGMENTS) {
      try {
        return (IntVector) INT_FROM_SEGMENT.invokeExact(species, segment, byteOffset, ByteOrder.LITTLE_ENDIAN);
      } catch (Throwable e) {
        throw rethrow(e);
      }
    }
    return IntVector.fromByteBuffer(species, buffer, (int) byteOffset, ByteOrder.LITTLE_ENDIAN);
  }

  static FloatVector floats(VectorSpecies<Float> species, ByteBuffer buffer, Object segment, long byteOffset) {
    if (USE_SEGMENTS) {
      try {
        return (FloatVector) FLOAT_FROM_SEGMENT.invokeExact(species, segment, byteOffset, ByteOrder.LITTLE_ENDIAN);
      } catch (Throwable e) {
        throw rethrow(e);
      }
    }
    return FloatVector.fromByteBuffer(species, buffer, (int) byteOffset, ByteOrder.LITTLE_ENDIAN);
  }

  static ByteVector bytes(VectorSpecies<Byte> species, ByteBuffer buffer, Object segment, long byteOffset) {
    if (USE_SEGMENTS) {
      try {
        return (ByteVector) BYTE_FROM_SEGMENT.invokeExact(species, segment, byteOffset, ByteOrder.LITTLE_ENDIAN);
      } catch (Throwable e) {
        throw rethrow(e);
      }
    }
    return ByteVector.fromByteBuffer(species, buffer, (int) byteOffset, ByteOrder.LITTLE_ENDIAN);
  }

  static ShortVector shorts(VectorSpecies<Short> species, ByteBuffer buffer, Object segment, long byteOffset) {
    if (USE_SEGMENTS) {
      try {
        return (ShortVector) SHORT_FROM_SEGMENT.invokeExact(species, segment, byteOffset, ByteOrder.LITTLE_ENDIAN);
      } catch (Throwable e) {
        throw rethrow(e);
      }
    }
    return ShortVector.fromByteBuffer(species, buffer, (int) byteOffset, ByteOrder.LITTLE_ENDIAN);
  }

  private static final VectorSpecies<Float> WIDE = FloatVector.SPECIES_PREFERRED;
  private static final VectorSpecies<Integer> WIDE_INTS = IntVector.SPECIES_PREFERRED;
  private static final VectorSpecies<Short> HALF_SHORTS =
      VectorSpecies.of(short.class, VectorShape.forBitSize(WIDE.length() * 16));

  /**
   * n BF16 values from {@code byteOffset} widened to floats into out[outOffset, outOffset + n): exact (a bf16 is the
   * top half of a float), L at a time (MLA's absorbed keys and embedding rows read whole rows this way).
   */
  static void bf16sToFloats(ByteBuffer buffer, Object segment, long byteOffset, float[] out, int outOffset, int n) {
    int c = 0;
    for (; c + WIDE.length() <= n; c += WIDE.length()) {
      IntVector ints = (IntVector) shorts(HALF_SHORTS, buffer, segment, byteOffset + 2L * c).castShape(WIDE_INTS, 0);
      ints.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().intoArray(out, outOffset + c);
    }
    for (; c < n; c++) {
      out[outOffset + c] = Float.intBitsToFloat((buffer.getShort((int) (byteOffset + 2L * c)) & 0xFFFF) << 16);
    }
  }

  private static RuntimeException rethrow(Throwable e) {
    if (e instanceof RuntimeException r) {
      return r;
    }
    if (e instanceof Error err) {
      throw err;
    }
    return new IllegalStateException(e);
  }
}
