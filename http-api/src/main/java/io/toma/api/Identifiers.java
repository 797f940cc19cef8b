package io.toma.api;

import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;

/**
 * The rules for names users choose and identifiers they pass in paths. Volume names become part of
 * device-mapper names and NQNs, so they are kept to a small, shell- and configfs-safe alphabet.
 */
public final class Identifiers {

  public static final int MAX_NAME = 63;
  public static final int MAX_NQN_BYTES = 223;
  public static final int MAX_ID = 128;

  private static final Pattern NAME = Pattern.compile("[a-z0-9]([a-z0-9._-]*[a-z0-9])?");
  private static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:-]*");
  // NVMe base spec 4.5: nqn.yyyy-mm.<reverse domain>:<unique string>, at most 223 bytes. The unique
  // part becomes a configfs directory name, so '/' and whitespace are refused.
  private static final Pattern NQN = Pattern.compile(
      "nqn\\.[0-9]{4}-(0[1-9]|1[0-2])\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*:[\\x21-\\x2e\\x30-\\x7e]+");

  private Identifiers() {}

  public static ApiResult<String> volumeName(String field, String name) {
    if (name.isEmpty()) {
      return ApiResult.invalid(field, "name must not be empty");
    }
    if (name.length() > MAX_NAME) {
      return ApiResult.invalid(field, "name is " + name.length() + " characters long; the limit is " + MAX_NAME);
    }
    if (!NAME.matcher(name).matches()) {
      return ApiResult.invalid(field,
          "name '" + Sizes.abbreviate(name) + "' may only hold lowercase letters, digits, '.', '_' and '-', and must start and end with a letter or digit");
    }
    return ApiResult.ok(name);
  }

  public static ApiResult<String> hostNqn(String field, String nqn) {
    int bytes = nqn.getBytes(StandardCharsets.UTF_8).length;
    if (bytes > MAX_NQN_BYTES) {
      return ApiResult.invalid(field, "host NQN is " + bytes + " bytes long; NVMe allows at most " + MAX_NQN_BYTES);
    }
    if (!NQN.matcher(nqn).matches()) {
      return ApiResult.invalid(field, "'" + Sizes.abbreviate(nqn)
          + "' is not an NVMe qualified name: expected nqn.yyyy-mm.reverse.domain:identifier, e.g. nqn.2014-08.org.nvmexpress:uuid:<uuid>");
    }
    return ApiResult.ok(nqn);
  }

  /** Volume and node ids in paths: never looked up when they could not be one. */
  public static ApiResult<String> id(String field, String id) {
    if (id.isEmpty() || id.length() > MAX_ID || !ID.matcher(id).matches()) {
      return ApiResult.invalid(field, "'" + Sizes.abbreviate(id) + "' is not a valid " + field
          + " (letters, digits, '.', '_', ':' and '-', at most " + MAX_ID + " characters)");
    }
    return ApiResult.ok(id);
  }
}
