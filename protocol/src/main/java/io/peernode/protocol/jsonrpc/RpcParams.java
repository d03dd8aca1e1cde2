package io.peernode.protocol.jsonrpc;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Iterator;
import java.util.List;

/**
 * The params of one call, given either by position (in the order of the method's declared
 * names) or by name. Accessors throw {@link RpcException#invalidParams} naming the param.
 */
public final class RpcParams {

  private final JsonNode params;
  private final List<String> names;

  private RpcParams(JsonNode params, List<String> names) {
    this.params = params;
    this.names = names;
  }

  /**
   * Binds raw params to a method's declared names, rejecting surplus positional params and
   * unknown named ones, so a typo is an error rather than silently ignored.
   */
  public static RpcParams bind(JsonNode params, List<String> names) {
    if (params == null || params.isNull() || params.isMissingNode()) {
      return new RpcParams(null, names);
    }
    if (params.isArray()) {
      if (params.size() > names.size()) {
        throw new RpcException(RpcException.INVALID_PARAMS,
            "too many params: expected at most " + names.size() + " " + names + ", got " + params.size());
      }
    } else if (params.isObject()) {
      for (Iterator<String> it = params.fieldNames(); it.hasNext(); ) {
        String name = it.next();
        if (!names.contains(name)) {
          throw new RpcException(RpcException.INVALID_PARAMS, "unknown param '" + name + "', expected " + names);
        }
      }
    } else {
      throw new RpcException(RpcException.INVALID_PARAMS, "params must be an array or an object");
    }
    return new RpcParams(params, names);
  }

  /** The param, or null when absent (JSON null counts as absent). */
  public JsonNode optional(String name) {
    int index = names.indexOf(name);
    if (index < 0) {
      throw new IllegalArgumentException("method declares no param " + name);
    }
    if (params == null) {
      return null;
    }
    JsonNode value = params.isArray() ? params.get(index) : params.get(name);
    return value == null || value.isNull() ? null : value;
  }

  public JsonNode required(String name) {
    JsonNode value = optional(name);
    if (value == null) {
      throw RpcException.invalidParams(name, "missing");
    }
    return value;
  }

  public String text(String name) {
    JsonNode value = required(name);
    if (!value.isTextual()) {
      throw RpcException.invalidParams(name, "expected a string, got " + kind(value));
    }
    return value.textValue();
  }

  public long integer(String name, long min, long max) {
    return integerValue(name, required(name), min, max);
  }

  public Long optionalInteger(String name, long min, long max) {
    JsonNode value = optional(name);
    return value == null ? null : integerValue(name, value, min, max);
  }

  public JsonNode object(String name) {
    JsonNode value = required(name);
    if (!value.isObject()) {
      throw RpcException.invalidParams(name, "expected a JSON object, got " + kind(value));
    }
    return value;
  }

  private static long integerValue(String name, JsonNode value, long min, long max) {
    if (!value.isIntegralNumber() || !value.canConvertToLong()) {
      throw RpcException.invalidParams(name, "expected an integer, got " + kind(value));
    }
    long v = value.longValue();
    if (v < min || v > max) {
      throw RpcException.invalidParams(name, "must be between " + min + " and " + max + ", got " + v);
    }
    return v;
  }

  static String kind(JsonNode value) {
    switch (value.getNodeType()) {
      case ARRAY: return "an array";
      case OBJECT: return "an object";
      case STRING: return "a string";
      case NUMBER: return "a number";
      case BOOLEAN: return "a boolean";
      case NULL: return "null";
      default: return value.getNodeType().name().toLowerCase(java.util.Locale.ROOT);
    }
  }
}
