package io.toma.api.health;

import java.util.Comparator;
import java.util.List;
import java.util.stream.StreamSupport;
import org.apache.pekko.cluster.ClusterEvent.CurrentClusterState;
import org.apache.pekko.cluster.Member;

/**
 * The body of {@code GET /api/v1/health}: this node, every member it knows of, and the members it
 * cannot currently reach.
 *
 * @param status {@code ok} when every member is reachable from this node, {@code degraded} when
 *     some are not (the API itself answers either way)
 */
public record ClusterHealth(
    String status, MemberView self, List<MemberView> members, List<MemberView> unreachable) {

  public static ClusterHealth of(Member self, CurrentClusterState state) {
    Comparator<MemberView> byAddress = Comparator.comparing(MemberView::address);
    List<MemberView> members =
        StreamSupport.stream(state.getMembers().spliterator(), false)
            .map(MemberView::of)
            .sorted(byAddress)
            .toList();
    List<MemberView> unreachable =
        state.getUnreachable().stream().map(MemberView::of).sorted(byAddress).toList();
    return new ClusterHealth(
        unreachable.isEmpty() ? "ok" : "degraded", MemberView.of(self), members, unreachable);
  }
}
