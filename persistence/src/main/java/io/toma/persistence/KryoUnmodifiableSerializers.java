package io.toma.persistence;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Kryo for the wrappers of {@code Collections.unmodifiable*}. Kryo's default map and collection
 * serializers instantiate the wrapper without its backing collection and then fail to fill it, so
 * a message holding one (DesiredState's key-ordered maps) could not cross the cluster. These write
 * the elements in iteration order and read them back into an insertion-ordered copy, so the order a
 * sender iterated in is the order the receiver iterates in.
 */
final class KryoUnmodifiableSerializers {
  private KryoUnmodifiableSerializers() {}

  static void addDefaultSerializers(Kryo kryo) {
    MapSerializer maps = new MapSerializer();
    kryo.addDefaultSerializer(Collections.unmodifiableMap(new HashMap<>()).getClass(), maps);
    kryo.addDefaultSerializer(Collections.unmodifiableSortedMap(new java.util.TreeMap<>()).getClass(), maps);
    CollectionSerializer collections = new CollectionSerializer();
    kryo.addDefaultSerializer(Collections.unmodifiableSet(new HashSet<>()).getClass(), collections);
    kryo.addDefaultSerializer(Collections.unmodifiableSortedSet(new java.util.TreeSet<>()).getClass(), collections);
    kryo.addDefaultSerializer(Collections.unmodifiableList(new ArrayList<>()).getClass(), collections);
    kryo.addDefaultSerializer(Collections.unmodifiableList(new java.util.LinkedList<>()).getClass(), collections);
    kryo.addDefaultSerializer(Collections.unmodifiableCollection(new ArrayList<>()).getClass(), collections);
  }

  private static final class MapSerializer extends Serializer<Map<Object, Object>> {
    MapSerializer() {
      setImmutable(true);
    }

    @Override
    public void write(Kryo kryo, Output output, Map<Object, Object> map) {
      output.writeVarInt(map.size(), true);
      for (Map.Entry<Object, Object> entry : map.entrySet()) {
        kryo.writeClassAndObject(output, entry.getKey());
        kryo.writeClassAndObject(output, entry.getValue());
      }
    }

    @Override
    public Map<Object, Object> read(Kryo kryo, Input input, Class<? extends Map<Object, Object>> type) {
      int size = input.readVarInt(true);
      Map<Object, Object> copy = new LinkedHashMap<>();
      for (int i = 0; i < size; i++) {
        Object key = kryo.readClassAndObject(input);
        copy.put(key, kryo.readClassAndObject(input));
      }
      return Collections.unmodifiableMap(copy);
    }
  }

  private static final class CollectionSerializer extends Serializer<Collection<Object>> {
    CollectionSerializer() {
      setImmutable(true);
    }

    @Override
    public void write(Kryo kryo, Output output, Collection<Object> collection) {
      output.writeVarInt(collection.size(), true);
      for (Object element : collection) {
        kryo.writeClassAndObject(output, element);
      }
    }

    @Override
    public Collection<Object> read(Kryo kryo, Input input, Class<? extends Collection<Object>> type) {
      int size = input.readVarInt(true);
      boolean isSet = Set.class.isAssignableFrom(type);
      Collection<Object> copy = isSet ? new LinkedHashSet<>() : new ArrayList<>(size);
      for (int i = 0; i < size; i++) {
        copy.add(kryo.readClassAndObject(input));
      }
      if (isSet) {
        return Collections.unmodifiableSet((Set<Object>) copy);
      }
      return List.class.isAssignableFrom(type)
          ? Collections.unmodifiableList((List<Object>) copy)
          : Collections.unmodifiableCollection(copy);
    }
  }
}
