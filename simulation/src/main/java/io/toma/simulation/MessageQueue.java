package io.toma.simulation;

import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;

/** Messages in flight, delivered in order of due time, then of sending (a seeded total order). */
final class MessageQueue {
  private record Envelope(long dueMillis, long seq, Message message) {}

  private final PriorityQueue<Envelope> queue = new PriorityQueue<>(
      (a, b) -> a.dueMillis != b.dueMillis ? Long.compare(a.dueMillis, b.dueMillis) : Long.compare(a.seq, b.seq));
  private long seq;

  void send(Message message, long dueMillis) {
    queue.add(new Envelope(dueMillis, seq++, message));
  }

  /** Every message due by {@code nowMillis}, in delivery order. */
  List<Message> due(long nowMillis) {
    List<Message> out = new ArrayList<>();
    while (!queue.isEmpty() && queue.peek().dueMillis <= nowMillis) {
      out.add(queue.poll().message);
    }
    return out;
  }

  int size() {
    return queue.size();
  }
}
