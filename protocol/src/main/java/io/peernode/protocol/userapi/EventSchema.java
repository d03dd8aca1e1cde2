package io.peernode.protocol.userapi;

import com.fasterxml.jackson.databind.JsonNode;
import com.github.erosb.jsonsKema.FormatValidationPolicy;
import com.github.erosb.jsonsKema.IJsonValue;
import com.github.erosb.jsonsKema.JsonParser;
import com.github.erosb.jsonsKema.Schema;
import com.github.erosb.jsonsKema.SchemaClient;
import com.github.erosb.jsonsKema.SchemaLoader;
import com.github.erosb.jsonsKema.SchemaLoaderConfig;
import com.github.erosb.jsonsKema.ValidationFailure;
import com.github.erosb.jsonsKema.Validator;
import com.github.erosb.jsonsKema.ValidatorConfig;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * A compiled subscription schema: a JSON Schema (draft 2020-12) document, identified by its
 * canonical JSON. Compiling checks the document against the draft 2020-12 meta-schema first, so
 * a document that is not a JSON Schema is refused with the meta-schema's complaint, rather than
 * silently matching everything.
 *
 * <p>References may point inside the document ({@code #/$defs/...}) or to the draft 2020-12
 * meta-schemas; a subscription never makes the node fetch anything from the network.
 *
 * <p>Validation is by <a href="https://github.com/erosb/json-sKema">json-sKema</a>, which has its
 * own JSON parser and so no Jackson version constraint; events arrive here as Jackson trees and
 * are handed over as canonical text.
 */
public final class EventSchema {

  private static final String META_2020_12 = "https://json-schema.org/draft/2020-12/schema";
  private static final URI BASE = URI.create("https://peernode.invalid/subscription.json");

  /** Serves the draft 2020-12 meta-schemas bundled with the validator; refuses everything else. */
  private static final SchemaClient OFFLINE = EventSchema::bundledMetaSchema;

  private static final Schema META_SCHEMA = loadMetaSchema();
  /** json-sKema's validator keeps the instance it is validating in a field: one per thread. */
  private static final ThreadLocal<Validator> META_VALIDATOR = ThreadLocal.withInitial(() ->
      Validator.create(META_SCHEMA, new ValidatorConfig(FormatValidationPolicy.NEVER)));

  private final String canonical;
  private final JsonNode document;
  /**
   * The validator of this schema, one per thread that validates against it: json-sKema's keeps
   * the instance being validated in a field, so one validator must not serve two threads at
   * once, and events are validated on the publishing caller's thread as well as on the actor.
   */
  private final ThreadLocal<Validator> validators;

  private EventSchema(String canonical, JsonNode document, Schema schema) {
    this.canonical = canonical;
    this.document = document;
    this.validators = ThreadLocal.withInitial(() -> Validator.create(schema, new ValidatorConfig(FormatValidationPolicy.ALWAYS)));
  }

  /**
   * Compiles a schema document.
   *
   * @throws InvalidSchemaException saying why the document is not a usable JSON Schema
   */
  public static EventSchema compile(JsonNode document) {
    Objects.requireNonNull(document, "schema");
    if (!document.isObject() && !document.isBoolean()) {
      throw new InvalidSchemaException("a JSON Schema is an object or a boolean, got " + document.getNodeType().name().toLowerCase(java.util.Locale.ROOT));
    }
    String canonical = CanonicalJson.of(document);
    IJsonValue json = new JsonParser(canonical, BASE).parse();
    ValidationFailure metaFailure = META_VALIDATOR.get().validate(json);
    if (metaFailure != null) {
      throw new InvalidSchemaException("not a valid JSON Schema (draft 2020-12): " + describe(metaFailure));
    }
    try {
      Schema schema = new SchemaLoader(json, new SchemaLoaderConfig(OFFLINE, BASE)).load();
      EventSchema compiled = new EventSchema(canonical, CanonicalJson.sorted(document), schema);
      compiled.validators.get(); // creating the validator may refuse the schema too
      return compiled;
    } catch (RuntimeException e) {
      // The loader throws its own exception types (and the refusal above) for bad references,
      // bad regexes and the like; all of them mean the same thing to the caller.
      throw new InvalidSchemaException("not a usable JSON Schema: " + e.getMessage(), e);
    }
  }

  /** The canonical JSON text that identifies this subscription. */
  public String canonical() {
    return canonical;
  }

  /** The schema document with sorted keys. */
  public JsonNode document() {
    return document.deepCopy();
  }

  /** True when the event given as canonical JSON text validates against this schema. */
  public boolean matchesCanonical(String canonicalEvent) {
    return matches(Event.parse(canonicalEvent));
  }

  /** True when {@code event} validates against this schema. */
  public boolean matches(JsonNode event) {
    return matches(Event.of(event));
  }

  /** True when the (once parsed) event validates against this schema. Safe from any thread. */
  public boolean matches(Event event) {
    try {
      return validators.get().validate(event.json) == null;
    } catch (RuntimeException e) {
      // A schema the validator cannot evaluate for this event (e.g. a pathological regex)
      // matches nothing rather than failing the publisher.
      return false;
    }
  }

  /** An event parsed once for validation against many schemas. */
  public static final class Event {
    final IJsonValue json;

    private Event(IJsonValue json) {
      this.json = json;
    }

    /** Parses canonical event text (as produced by {@link CanonicalJson#of}). */
    public static Event parse(String canonicalEvent) {
      return of(CanonicalJson.parse(canonicalEvent));
    }

    /**
     * The event as the validator's tree, built straight from Jackson's: the validator's own
     * text parser allocates a large buffer per document, which dominated the cost of a publish.
     * Events carry no source locations (only match or no match is asked of them).
     */
    public static Event of(JsonNode event) {
      return new Event(convert(event));
    }

    private static IJsonValue convert(JsonNode node) {
      switch (node.getNodeType()) {
        case OBJECT: {
          java.util.Map<com.github.erosb.jsonsKema.IJsonString, IJsonValue> properties = new java.util.LinkedHashMap<>();
          java.util.Iterator<java.util.Map.Entry<String, JsonNode>> fields = node.fields();
          while (fields.hasNext()) {
            java.util.Map.Entry<String, JsonNode> field = fields.next();
            properties.put(new com.github.erosb.jsonsKema.JsonString(field.getKey()), convert(field.getValue()));
          }
          return new com.github.erosb.jsonsKema.JsonObject(properties);
        }
        case ARRAY: {
          java.util.List<IJsonValue> items = new java.util.ArrayList<>(node.size());
          for (JsonNode item : node) {
            items.add(convert(item));
          }
          return new com.github.erosb.jsonsKema.JsonArray(items);
        }
        case STRING:
          return new com.github.erosb.jsonsKema.JsonString(node.textValue());
        case NUMBER:
          return new com.github.erosb.jsonsKema.JsonNumber(node.numberValue());
        case BOOLEAN:
          return new com.github.erosb.jsonsKema.JsonBoolean(node.booleanValue());
        default:
          return new com.github.erosb.jsonsKema.JsonNull();
      }
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof EventSchema && ((EventSchema) o).canonical.equals(canonical);
  }

  @Override
  public int hashCode() {
    return canonical.hashCode();
  }

  @Override
  public String toString() {
    return canonical;
  }

  private static String describe(ValidationFailure failure) {
    // The leaves name the offending keyword (the top one only says "allOf failed"); where the
    // meta-schema allows alternatives (type: a name or an array of names) there are several
    // leaves at the same place, and all of them together say what would have been accepted.
    java.util.List<ValidationFailure> leaves = failure.flatten();
    if (leaves.isEmpty()) {
      return failure.getMessage();
    }
    String where = pointer(leaves.get(leaves.size() - 1));
    java.util.LinkedHashSet<String> messages = new java.util.LinkedHashSet<>();
    for (ValidationFailure leaf : leaves) {
      if (pointer(leaf).equals(where) && messages.size() < 3) {
        messages.add(leaf.getMessage());
      }
    }
    return String.join(", or ", messages) + " at " + where;
  }

  private static String pointer(ValidationFailure f) {
    return f.getInstance() == null ? "#" : String.valueOf(f.getInstance().getLocation().getPointer());
  }

  private static InputStream bundledMetaSchema(URI uri) {
    String text = uri.toString();
    String prefix = "https://json-schema.org/draft/2020-12/";
    if (text.startsWith(prefix)) {
      String rest = text.substring(prefix.length());
      String file = rest.equals("schema") ? "schema" : rest.startsWith("meta/") ? rest.substring(5) : null;
      if (file != null && file.matches("[a-z-]+")) {
        InputStream in = EventSchema.class.getClassLoader().getResourceAsStream("json-meta-schemas/draft2020-12/" + file + ".json");
        if (in != null) {
          return in;
        }
      }
    }
    throw new IllegalArgumentException("schema reference to " + uri + " is not allowed (only local references)");
  }

  private static Schema loadMetaSchema() {
    try (InputStream in = EventSchema.class.getClassLoader().getResourceAsStream("json-meta-schemas/draft2020-12/schema.json")) {
      if (in == null) {
        throw new IllegalStateException("the draft 2020-12 meta-schema is missing from the classpath");
      }
      String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      IJsonValue json = new JsonParser(text, URI.create(META_2020_12)).parse();
      return new SchemaLoader(json, new SchemaLoaderConfig(OFFLINE, URI.create(META_2020_12))).load();
    } catch (java.io.IOException e) {
      throw new IllegalStateException("cannot read the draft 2020-12 meta-schema", e);
    }
  }

}
