package io.toma.persistence;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.serializers.ImmutableCollectionsSerializers;
import com.esotericsoftware.kryo.util.DefaultInstantiatorStrategy;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.objenesis.strategy.StdInstantiatorStrategy;

/** Configures one Kryo instance the way every Toma node must, so all nodes read each other. */
final class KryoFactory {
  private KryoFactory() {}

  static Kryo create(ExtendedActorSystem system) {
    Kryo kryo = new Kryo();
    kryo.setClassLoader(system.dynamicAccess().classLoader());
    // Messages are many small records; registering each would make every new message a two-place
    // change and a version skew between nodes a silent misread. Class names on the wire instead.
    kryo.setRegistrationRequired(false);
    kryo.setReferences(true);
    // Classes without a no-argument constructor (most of ours) are created without calling one.
    kryo.setInstantiatorStrategy(new DefaultInstantiatorStrategy(new StdInstantiatorStrategy()));
    // List.of, Set.of, Map.of and Stream.toList() have no public class Kryo could instantiate.
    ImmutableCollectionsSerializers.addDefaultSerializers(kryo);
    KryoUnmodifiableSerializers.addDefaultSerializers(kryo);
    kryo.addDefaultSerializer(
        org.apache.pekko.actor.typed.ActorRef.class, new KryoActorRefSerializers.Typed(system));
    kryo.addDefaultSerializer(
        org.apache.pekko.actor.ActorRef.class, new KryoActorRefSerializers.Classic(system));
    return kryo;
  }
}
