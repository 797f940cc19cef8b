package io.toma.persistence;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.serialization.Serialization;

/**
 * Actor references cannot be copied field by field: they are written as their full path (with
 * the sender's address) and resolved again on the receiving node.
 */
final class KryoActorRefSerializers {
  private KryoActorRefSerializers() {}

  /** Typed {@link ActorRef}, through {@link ActorRefResolver}. */
  static final class Typed extends Serializer<ActorRef<?>> {
    private final ExtendedActorSystem system;

    Typed(ExtendedActorSystem system) {
      super(false, true);
      this.system = system;
    }

    // Resolved on first use: serializers are created while the actor system is still starting.
    private ActorRefResolver resolver() {
      return ActorRefResolver.get(Adapter.toTyped(system));
    }

    @Override
    public void write(Kryo kryo, Output output, ActorRef<?> ref) {
      output.writeString(resolver().toSerializationFormat(ref));
    }

    @Override
    public ActorRef<?> read(Kryo kryo, Input input, Class<? extends ActorRef<?>> type) {
      return resolver().resolveActorRef(input.readString());
    }
  }

  /** Classic {@link org.apache.pekko.actor.ActorRef}, through the actor ref provider. */
  static final class Classic extends Serializer<org.apache.pekko.actor.ActorRef> {
    private final ExtendedActorSystem system;

    Classic(ExtendedActorSystem system) {
      super(false, true);
      this.system = system;
    }

    @Override
    public void write(Kryo kryo, Output output, org.apache.pekko.actor.ActorRef ref) {
      output.writeString(Serialization.serializedActorPath(ref));
    }

    @Override
    public org.apache.pekko.actor.ActorRef read(
        Kryo kryo, Input input, Class<? extends org.apache.pekko.actor.ActorRef> type) {
      return system.provider().resolveActorRef(input.readString());
    }
  }
}
