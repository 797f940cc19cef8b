package io.toma.api.health;

import io.toma.config.ClusterRoles;
import io.toma.config.Role;
import java.util.List;
import java.util.Locale;
import org.apache.pekko.cluster.Member;

/**
 * One cluster member as the health endpoint shows it.
 *
 * @param roles Toma roles only ({@code manager}, {@code disk}, ...); zone and rack have their own
 *     fields, and Pekko's internal data-centre role is left out
 * @param status Pekko's member status in lower case: joining, weaklyup, up, leaving, exiting,
 *     down, removed
 */
public record MemberView(String address, List<String> roles, String zone, String rack, String status) {

  public static MemberView of(Member member) {
    List<String> roles =
        member.getRoles().stream()
            .filter(r -> Role.fromConfigName(r).isPresent())
            .sorted()
            .toList();
    return new MemberView(
        member.address().toString(),
        roles,
        ClusterRoles.zone(member.getRoles()).orElse(""),
        ClusterRoles.rack(member.getRoles()).orElse(""),
        member.status().toString().toLowerCase(Locale.ROOT));
  }
}
