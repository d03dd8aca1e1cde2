package io.peernode.node.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.time.Duration;

/**
 * {@code peer-node call [--url URL] METHOD [ARG...]}: calls the JSON-RPC user API of a node
 * and prints the result as JSON, the way storjnet's users called it from their shell.
 * Each ARG is taken as JSON when it parses as JSON ({@code 42}, {@code true},
 * {@code {"a":1}}, {@code "quoted"}), otherwise as a string, so node ids and hex need no quotes.
 * Exit codes: 0 result printed, 1 a JSON-RPC error or an unreachable node, 2 usage.
 */
public final class CallCommand {

  static final String USAGE = "usage: peer-node call [--url http://127.0.0.1:8890] [--timeout SECONDS] METHOD [ARG...]";

  private CallCommand() {}

  public static int run(String[] args, PrintStream out, PrintStream err) {
    String url = "http://127.0.0.1:8890";
    long timeoutSeconds = 30;
    int i = 0;
    while (i < args.length && args[i].startsWith("--")) {
      String option = args[i];
      if (option.equals("--help")) {
        out.println(USAGE);
        return 0;
      }
      if (i + 1 >= args.length) {
        err.println("peer-node call: option " + option + " needs a value\n" + USAGE);
        return 2;
      }
      String value = args[i + 1];
      if (option.equals("--url")) {
        url = value;
      } else if (option.equals("--timeout")) {
        try {
          timeoutSeconds = Long.parseLong(value);
        } catch (NumberFormatException e) {
          err.println("peer-node call: option --timeout: expected whole seconds, got '" + value + "'");
          return 2;
        }
      } else {
        err.println("peer-node call: unknown option '" + option + "'\n" + USAGE);
        return 2;
      }
      i += 2;
    }
    if (i >= args.length) {
      err.println("peer-node call: no METHOD given\n" + USAGE);
      return 2;
    }
    String method = args[i++];
    ObjectMapper mapper = RpcClient.mapper();
    ArrayNode params = mapper.createArrayNode();
    for (; i < args.length; i++) {
      params.add(argument(mapper, args[i]));
    }
    URI uri;
    try {
      uri = URI.create(url.endsWith("/rpc") ? url : url.replaceAll("/+$", "") + "/rpc");
    } catch (IllegalArgumentException e) {
      err.println("peer-node call: option --url: " + e.getMessage());
      return 2;
    }
    try {
      JsonNode result = new RpcClient(uri, Duration.ofSeconds(timeoutSeconds)).call(method, params);
      out.println(mapper.writerWithDefaultPrettyPrinter().writeValueAsString(result));
      return 0;
    } catch (RpcClient.RpcError e) {
      err.println("error " + e.code + ": " + e.getMessage());
      return 1;
    } catch (IOException e) {
      err.println("peer-node call: cannot reach " + uri + ": " + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()));
      return 1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return 1;
    }
  }

  static JsonNode argument(ObjectMapper mapper, String text) {
    try {
      JsonNode parsed = mapper.readTree(text);
      if (parsed != null && !parsed.isMissingNode()) {
        return parsed;
      }
    } catch (JsonProcessingException e) {
      // not JSON: a plain string
    }
    return mapper.getNodeFactory().textNode(text);
  }
}
