package io.peernode.protocol.jsonrpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class JsonRpcTest {

  private static final ObjectMapper MAPPER = new ObjectMapper();

  private static JsonRpc.Body parse(String body) {
    return JsonRpc.parse(MAPPER, body.getBytes(StandardCharsets.UTF_8));
  }

  private static int errorCode(JsonRpc.Element element) {
    return element.error.get("error").get("code").intValue();
  }

  @Test
  void aBodyThatIsNotJsonIsOneParseError() {
    JsonRpc.Body body = parse("{\"jsonrpc\": \"2.0\", \"method\"");
    assertFalse(body.batch);
    assertEquals(RpcException.PARSE_ERROR, errorCode(body.elements.get(0)));
    assertTrue(body.elements.get(0).error.get("id").isNull());
    assertEquals(RpcException.PARSE_ERROR, errorCode(parse("").elements.get(0)));
  }

  @Test
  void aWellFormedCallKeepsItsIdMethodAndParams() {
    JsonRpc.Call call = parse("{\"jsonrpc\":\"2.0\",\"id\":\"a\",\"method\":\"node_id\",\"params\":[1]}").elements.get(0).call;
    assertEquals("a", call.id.textValue());
    assertEquals("node_id", call.method);
    assertEquals(1, call.params.get(0).intValue());
    assertFalse(call.isNotification());
    assertTrue(parse("{\"jsonrpc\":\"2.0\",\"method\":\"x\"}").elements.get(0).call.isNotification());
  }

  @Test
  void invalidRequestsAreConfinedToTheirElementOfABatch() {
    JsonRpc.Body body = parse("[1, {\"jsonrpc\":\"1.0\",\"id\":2,\"method\":\"m\"}, {\"jsonrpc\":\"2.0\",\"id\":3,\"method\":4},"
        + " {\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"m\",\"params\":\"s\"}, {\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"m\"}]");
    assertTrue(body.batch);
    assertEquals(5, body.elements.size());
    assertEquals(RpcException.INVALID_REQUEST, errorCode(body.elements.get(0)));
    assertEquals(RpcException.INVALID_REQUEST, errorCode(body.elements.get(1)));
    assertEquals(2, body.elements.get(1).error.get("id").intValue());
    assertEquals(RpcException.INVALID_REQUEST, errorCode(body.elements.get(2)));
    assertEquals(RpcException.INVALID_PARAMS, errorCode(body.elements.get(3)));
    assertEquals("m", body.elements.get(4).call.method);
    assertEquals(RpcException.INVALID_REQUEST, errorCode(parse("[]").elements.get(0)));
  }

  @Test
  void paramsBindByPositionOrByName() throws Exception {
    List<String> names = List.of("streamid", "size");
    RpcParams positional = RpcParams.bind(MAPPER.readTree("[\"s1\", 10]"), names);
    RpcParams named = RpcParams.bind(MAPPER.readTree("{\"size\": 10, \"streamid\": \"s1\"}"), names);
    for (RpcParams p : List.of(positional, named)) {
      assertEquals("s1", p.text("streamid"));
      assertEquals(10L, p.integer("size", 0, 100));
    }
    RpcParams absent = RpcParams.bind(MAPPER.readTree("[\"s1\"]"), names);
    assertNull(absent.optionalInteger("size", 0, 100));
  }

  @Test
  void badParamsNameTheParam() throws Exception {
    List<String> names = List.of("streamid", "size");
    RpcException surplus = assertThrows(RpcException.class, () -> RpcParams.bind(MAPPER.readTree("[1,2,3]"), names));
    assertEquals(RpcException.INVALID_PARAMS, surplus.code());
    RpcException unknown = assertThrows(RpcException.class, () -> RpcParams.bind(MAPPER.readTree("{\"sise\":1}"), names));
    assertTrue(unknown.getMessage().contains("'sise'"), unknown.getMessage());
    RpcParams p = RpcParams.bind(MAPPER.readTree("[5, \"x\"]"), names);
    RpcException type = assertThrows(RpcException.class, () -> p.text("streamid"));
    assertTrue(type.getMessage().contains("'streamid'") && type.getMessage().contains("a number"), type.getMessage());
    RpcException range = assertThrows(RpcException.class, () -> RpcParams.bind(MAPPER.readTree("[\"s\", -1]"), names).integer("size", 0, 9));
    assertTrue(range.getMessage().contains("'size'"), range.getMessage());
    RpcException missing = assertThrows(RpcException.class, () -> RpcParams.bind(null, names).required("streamid"));
    assertTrue(missing.getMessage().contains("missing"), missing.getMessage());
  }

  @Test
  void responsesHaveTheJsonRpcShape() {
    JsonNode ok = JsonRpc.result(MAPPER.getNodeFactory().numberNode(7), null);
    assertEquals("2.0", ok.get("jsonrpc").textValue());
    assertTrue(ok.get("result").isNull());
    assertEquals(7, ok.get("id").intValue());
    JsonNode err = JsonRpc.error(null, -32601, "unknown method 'x'");
    assertEquals(-32601, err.get("error").get("code").intValue());
    assertTrue(err.get("id").isNull());
  }
}
