package io.toma.persistence;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import com.esotericsoftware.kryo.util.Pool;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.serialization.JSerializer;

/**
 * Kryo 5 for {@link KryoSerializable} cluster messages. Classes need no registration (the class
 * name travels with the bytes), shared and cyclic references are kept, records go through their
 * canonical constructor, and {@code ActorRef} fields are written as actor paths (see
 * {@link KryoActorRefSerializers}). Kryo instances are not thread-safe: each call borrows one from a
 * pool and returns it.
 */
public final class KryoSerializer extends JSerializer {
  /** Fixed forever: it is written next to every serialized message. */
  public static final int IDENTIFIER = 1_917_001;

  private static final int POOL_SIZE = 32;

  private final Pool<Kryo> pool;

  public KryoSerializer(ExtendedActorSystem system) {
    this.pool =
        new Pool<>(true, false, POOL_SIZE) {
          @Override
          protected Kryo create() {
            return KryoFactory.create(system);
          }
        };
  }

  @Override
  public int identifier() {
    return IDENTIFIER;
  }

  @Override
  public boolean includeManifest() {
    return false;
  }

  @Override
  public byte[] toBinary(Object message) {
    Kryo kryo = pool.obtain();
    try (Output output = new Output(256, -1)) {
      kryo.writeClassAndObject(output, message);
      return output.toBytes();
    } finally {
      pool.free(kryo);
    }
  }

  @Override
  public Object fromBinaryJava(byte[] bytes, Class<?> manifest) {
    Kryo kryo = pool.obtain();
    try (Input input = new Input(bytes)) {
      return kryo.readClassAndObject(input);
    } finally {
      pool.free(kryo);
    }
  }
}
