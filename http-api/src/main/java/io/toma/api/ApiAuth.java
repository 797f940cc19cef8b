package io.toma.api;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.List;
import java.util.Optional;

/**
 * Bearer tokens the API accepts, built by whoever starts the server from its configuration. With
 * auth disabled every call is allowed (the demo's default, which the server should say on start).
 */
public record ApiAuth(boolean enabled, List<Token> tokens) {

  public enum Access {
    READ_ONLY,
    READ_WRITE
  }

  /** One configured token; {@code toString} hides the secret so it never reaches a log. */
  public record Token(String secret, Access access) {
    @Override
    public String toString() {
      return "Token[" + access + "]";
    }
  }

  public ApiAuth {
    tokens = List.copyOf(tokens);
  }

  public static ApiAuth disabled() {
    return new ApiAuth(false, List.of());
  }

  public static ApiAuth of(List<Token> tokens) {
    return new ApiAuth(true, tokens);
  }

  /** The access a presented secret grants, compared in constant time; empty when it matches none. */
  public Optional<Access> accessOf(String presented) {
    byte[] given = presented.getBytes(StandardCharsets.UTF_8);
    Optional<Access> found = Optional.empty();
    for (Token t : tokens) {
      if (MessageDigest.isEqual(given, t.secret().getBytes(StandardCharsets.UTF_8)) && found.isEmpty()) {
        found = Optional.of(t.access());
      }
    }
    return found;
  }
}
