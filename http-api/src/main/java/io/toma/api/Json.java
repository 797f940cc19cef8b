package io.toma.api;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jdk8.Jdk8Module;

/** The API's one JSON mapper: strict on input (duplicates, trailing data, unknown fields), plain on output. */
public final class Json {

  public static final ObjectMapper MAPPER = new ObjectMapper()
      .registerModule(new Jdk8Module())
      .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
      .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
      .enable(DeserializationFeature.USE_BIG_INTEGER_FOR_INTS)
      .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS);

  private Json() {}

  public static byte[] write(Object value) {
    try {
      return MAPPER.writeValueAsBytes(value);
    } catch (JsonProcessingException e) {
      // Only our own records are written: failing here is a bug, not bad input.
      throw new IllegalStateException("cannot write " + value.getClass().getSimpleName() + " as JSON", e);
    }
  }

  /** Parses a body; the error is a sentence for the caller, without Jackson's source excerpt. */
  public static ApiResult<JsonNode> parse(byte[] body) {
    if (body.length == 0) {
      return ApiResult.invalid("", "the request body is empty; this call takes a JSON object");
    }
    try {
      JsonNode node = MAPPER.readTree(body);
      if (node == null || node.isMissingNode()) {
        return ApiResult.invalid("", "the request body is empty; this call takes a JSON object");
      }
      return ApiResult.ok(node);
    } catch (JsonProcessingException e) {
      String where = e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr();
      return ApiResult.invalid("", "the request body is not valid JSON" + where + ": " + firstLine(e.getOriginalMessage()));
    } catch (java.io.IOException | RuntimeException e) {
      return ApiResult.invalid("", "the request body is not valid JSON");
    }
  }

  private static String firstLine(String message) {
    if (message == null) {
      return "malformed input";
    }
    int nl = message.indexOf('\n');
    String line = nl < 0 ? message : message.substring(0, nl);
    return line.length() <= 200 ? line : line.substring(0, 200) + "...";
  }
}
