package io.toma.api;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Volume sizes as users write them: a whole number of bytes, or a whole number followed by a binary
 * unit (KiB, MiB, GiB, TiB). Decimal units (GB) are refused rather than guessed: 100GB and 100GiB
 * differ by 7%. A size must be a positive multiple of 512 bytes (one sector) and fit in a long.
 */
public final class Sizes {

  public static final long SECTOR = 512;
  public static final long MIN_BYTES = 1L << 20;

  private static final Pattern SIZE = Pattern.compile("([0-9]{1,30})\\s?(B|KiB|MiB|GiB|TiB)?");

  private Sizes() {}

  /** Parses a size from text; the error is a sentence naming what is wrong. */
  public static ApiResult<Long> parse(String field, String text) {
    Matcher m = SIZE.matcher(text.strip());
    if (!m.matches()) {
      return ApiResult.invalid(field,
          "'" + abbreviate(text) + "' is not a size: write bytes (1073741824) or a whole number with KiB, MiB, GiB or TiB (100GiB)");
    }
    String unit = m.group(2) == null ? "B" : m.group(2);
    int shift = switch (unit) {
      case "KiB" -> 10;
      case "MiB" -> 20;
      case "GiB" -> 30;
      case "TiB" -> 40;
      default -> 0;
    };
    long number;
    try {
      number = Long.parseLong(m.group(1));
    } catch (NumberFormatException e) {
      return tooLarge(field);
    }
    if (number > (Long.MAX_VALUE >> shift)) {
      return tooLarge(field);
    }
    return check(field, number << shift);
  }

  /** Checks a size given as a number of bytes. */
  public static ApiResult<Long> check(String field, long bytes) {
    if (bytes < MIN_BYTES) {
      return ApiResult.invalid(field, "size must be at least 1MiB (" + MIN_BYTES + " bytes), got " + bytes);
    }
    if (bytes % SECTOR != 0) {
      return ApiResult.invalid(field, "size must be a multiple of 512 bytes (one sector), got " + bytes);
    }
    return ApiResult.ok(bytes);
  }

  private static ApiResult<Long> tooLarge(String field) {
    return ApiResult.invalid(field, "size is too large (the largest is " + Long.MAX_VALUE + " bytes)");
  }

  /** Renders bytes for people: the largest binary unit that keeps one decimal, e.g. 1.5 GiB. */
  public static String human(long bytes) {
    String[] units = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    double v = bytes;
    int u = 0;
    while (v >= 1024 && u < units.length - 1) {
      v /= 1024;
      u++;
    }
    return u == 0 ? bytes + " B" : (v == Math.rint(v) ? String.format("%.0f %s", v, units[u]) : String.format("%.1f %s", v, units[u]));
  }

  static String abbreviate(String text) {
    return text.length() <= 40 ? text : text.substring(0, 40) + "...";
  }

  /** For callers that only want to know whether text parses. */
  public static Optional<Long> tryParse(String text) {
    return parse("size", text) instanceof ApiResult.Ok<Long> ok ? Optional.of(ok.value()) : Optional.empty();
  }
}
