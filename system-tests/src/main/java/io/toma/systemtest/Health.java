package io.toma.systemtest;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * The body of {@code GET /api/v1/health} as a test reads it: membership as one node sees it.
 * Unknown fields are ignored so the tests keep passing while the endpoint grows.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record Health(String status, Member self, List<Member> members, List<Member> unreachable) {
  public Health {
    members = List.copyOf(members);
    unreachable = List.copyOf(unreachable);
  }

  @JsonIgnoreProperties(ignoreUnknown = true)
  public record Member(String address, List<String> roles, String zone, String rack, String status) {
    public boolean isUp() {
      return "up".equals(status);
    }
  }

  public Optional<Member> member(String address) {
    return members.stream().filter(m -> m.address().equals(address)).findFirst();
  }

  public boolean isUnreachable(String address) {
    return unreachable.stream().anyMatch(m -> m.address().equals(address));
  }

  /** Every address is a member with status up and reachable, and there is no one else. */
  public boolean exactlyTheseUp(List<String> addresses) {
    return members.size() == addresses.size()
        && addresses.stream().allMatch(a -> member(a).map(Member::isUp).orElse(false))
        && unreachable.isEmpty();
  }

  /** One line for failure messages: {@code self=up members=[a up, b down] unreachable=[b]}. */
  public String summary() {
    return "self=" + self.address() + " " + self.status() + " members=["
        + members.stream().map(m -> m.address() + " " + m.status()).collect(Collectors.joining(", "))
        + "] unreachable=["
        + unreachable.stream().map(Member::address).collect(Collectors.joining(", ")) + "]";
  }
}
