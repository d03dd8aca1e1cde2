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
 * are handed over as the validator's own tree.
 *
 * <p><b>Verdicts by projection.</b> Events are JSON objects, and most subscription schemas look at
 * only a few named top-level properties of them ({@code type}, {@code properties},
 * {@code required}, ... : see {@link #readNames}). For such a schema the verdict on an event is the
 * verdict on the event cut down to those properties (its projection), so the validator is asked
 * about the projection, and its answer is kept per schema, keyed by the projection's exact
 * content (values and their number types, see {@link #projectionKey}): an event whose projection
 * was seen before (the same topic, the same kind) is matched by one lookup. Every answer is still
 * json-sKema's, given on the projection; a schema with any other root keyword (const, enum,
 * additionalProperties, patternProperties, $ref, ...) is validated against the whole event every
 * time. The kept answers are bounded per schema, and a schema whose projections rarely repeat
 * stops keeping them for a while.
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

  /** Kept verdicts per schema, and the largest projection key kept (in chars). */
  static final int MAX_VERDICTS = 128;
  static final int MAX_KEY_CHARS = 256;
  /** Out of every LOOKUP_WINDOW lookups, more misses than half of them turn the cache off for BYPASS matches. */
  private static final int LOOKUP_WINDOW = 1024;
  private static final int BYPASS = 16 * 1024;

  private final String canonical;
  private final JsonNode document;
  /** The top-level event properties the verdict depends on (sorted), or null: possibly all of them. */
  private final String[] reads;
  /** Verdicts by projection key (null when {@link #reads} is null). */
  private final java.util.concurrent.ConcurrentHashMap<String, Boolean> verdicts;
  /** Racy counters: they only decide whether the cache is worth using, never a verdict. */
  private int lookups;
  private int misses;
  private int bypass;
  /**
   * The validator of this schema, one per thread that validates against it: json-sKema's keeps
   * the instance being validated in a field, so one validator must not serve two threads at
   * once, and events are validated on the publishing caller's thread as well as on the actor.
   */
  private final ThreadLocal<Validator> validators;

  private EventSchema(String canonical, JsonNode document, Schema schema) {
    this.canonical = canonical;
    this.document = document;
    this.reads = readNames(document);
    this.verdicts = reads == null ? null : new java.util.concurrent.ConcurrentHashMap<>();
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

  /**
   * True when the event validates against this schema. Safe from any thread (one Event on one
   * thread at a time).
   */
  public boolean matches(Event event) {
    if (verdicts != null && event.node != null && event.node.isObject()) {
      if (bypass > 0) {
        bypass--;
      } else {
        String key = projectionKey(event.node, reads);
        if (key != null) {
          Boolean kept = verdicts.get(key);
          if (++lookups == LOOKUP_WINDOW) {
            if (misses > LOOKUP_WINDOW / 2) {
              bypass = BYPASS; // the projections rarely repeat: the lookups only cost here
            }
            lookups = 0;
            misses = 0;
          }
          if (kept != null) {
            return kept;
          }
          misses++;
          boolean verdict = validate(project(event.node, reads));
          if (verdicts.size() >= MAX_VERDICTS) {
            verdicts.clear();
          }
          verdicts.put(key, verdict);
          return verdict;
        }
      }
    }
    return validate(event.json());
  }

  /** json-sKema's verdict on {@code instance}. */
  private boolean validate(IJsonValue instance) {
    try {
      return validators.get().validate(instance) == null;
    } catch (RuntimeException e) {
      // A schema the validator cannot evaluate for this event (e.g. a pathological regex)
      // matches nothing rather than failing the publisher.
      return false;
    }
  }

  /** For tests: json-sKema's verdict on the whole event, without projection or kept verdicts. */
  boolean matchesWhole(Event event) {
    return validate(event.json());
  }

  /** For tests: the names {@link #readNames} found (null: the whole event). */
  java.util.List<String> reads() {
    return reads == null ? null : java.util.List.of(reads);
  }

  /**
   * The top-level properties of an (object) event that the verdict of {@code schema} depends
   * on, sorted; null when it may depend on more (a keyword not known to look only at named
   * properties). Known: {@code properties} and {@code required} (their names; a property's
   * subschema sees only that property's value, whatever it contains, $refs included),
   * {@code dependentRequired} and {@code dependentSchemas} (the names on both sides, and what the
   * dependent schema reads), {@code allOf}, {@code anyOf}, {@code oneOf}, {@code not},
   * {@code if}/{@code then}/{@code else} (what their schemas read: they apply to the same
   * event), {@code type} (an event is always an object, whatever else it holds), boolean schemas,
   * and the keywords that do not validate ({@code $schema}, {@code $id}, {@code $defs},
   * {@code $comment}, {@code $anchor}, {@code $dynamicAnchor}, {@code title},
   * {@code description}, {@code default}, {@code examples}, {@code deprecated}).
   */
  static String[] readNames(JsonNode schema) {
    java.util.TreeSet<String> names = new java.util.TreeSet<>();
    return collectReads(schema, names) ? names.toArray(new String[0]) : null;
  }

  private static boolean collectReads(JsonNode schema, java.util.Set<String> names) {
    if (schema.isBoolean()) {
      return true;
    }
    if (!schema.isObject()) {
      return false;
    }
    java.util.Iterator<java.util.Map.Entry<String, JsonNode>> fields = schema.fields();
    while (fields.hasNext()) {
      java.util.Map.Entry<String, JsonNode> field = fields.next();
      JsonNode value = field.getValue();
      switch (field.getKey()) {
        case "properties":
          if (!value.isObject()) {
            return false;
          }
          value.fieldNames().forEachRemaining(names::add);
          break;
        case "required":
          if (!addNames(value, names)) {
            return false;
          }
          break;
        case "dependentRequired":
        case "dependentSchemas": {
          if (!value.isObject()) {
            return false;
          }
          java.util.Iterator<java.util.Map.Entry<String, JsonNode>> deps = value.fields();
          while (deps.hasNext()) {
            java.util.Map.Entry<String, JsonNode> dep = deps.next();
            names.add(dep.getKey());
            boolean ok = field.getKey().equals("dependentRequired")
                ? addNames(dep.getValue(), names)
                : collectReads(dep.getValue(), names);
            if (!ok) {
              return false;
            }
          }
          break;
        }
        case "allOf":
        case "anyOf":
        case "oneOf":
          if (!value.isArray()) {
            return false;
          }
          for (JsonNode sub : value) {
            if (!collectReads(sub, names)) {
              return false;
            }
          }
          break;
        case "not":
        case "if":
        case "then":
        case "else":
          if (!collectReads(value, names)) {
            return false;
          }
          break;
        case "type":
        case "$schema":
        case "$id":
        case "$defs":
        case "$comment":
        case "$anchor":
        case "$dynamicAnchor":
        case "title":
        case "description":
        case "default":
        case "examples":
        case "deprecated":
          break;
        default:
          return false;
      }
    }
    return true;
  }

  private static boolean addNames(JsonNode array, java.util.Set<String> names) {
    if (!array.isArray()) {
      return false;
    }
    for (JsonNode name : array) {
      if (!name.isTextual()) {
        return false;
      }
      names.add(name.textValue());
    }
    return true;
  }

  /**
   * The event cut down to the properties {@code names}, as the validator's tree: what the
   * validator sees of those properties is exactly what it sees of them in the whole event.
   */
  private static IJsonValue project(JsonNode event, String[] names) {
    java.util.Map<com.github.erosb.jsonsKema.IJsonString, IJsonValue> properties = new java.util.LinkedHashMap<>();
    for (String name : names) {
      JsonNode value = event.get(name);
      if (value != null) {
        properties.put(new com.github.erosb.jsonsKema.JsonString(name), Event.convert(value));
      }
    }
    return new com.github.erosb.jsonsKema.JsonObject(properties);
  }

  /**
   * A text that is equal for two events exactly when their projections on {@code names} are the
   * same to the validator: which of the names are present, and their values with every
   * detail the validator's tree carries (strings, booleans, nulls, arrays and objects with their
   * order, numbers with their Java type as well as their text). Each part is self-delimiting
   * (lengths before strings and containers), so different projections never give the same key.
   * Null when the projection is too large to keep ({@link #MAX_KEY_CHARS}) or holds a node the
   * validator's tree is not made from here.
   */
  static String projectionKey(JsonNode event, String[] names) {
    StringBuilder key = new StringBuilder(32);
    for (int i = 0; i < names.length; i++) {
      JsonNode value = event.get(names[i]);
      if (value != null) {
        key.append((char) ('0' + i));
        if (!appendKey(value, key) || key.length() > MAX_KEY_CHARS) {
          return null;
        }
      }
    }
    return key.toString();
  }

  private static boolean appendKey(JsonNode node, StringBuilder key) {
    switch (node.getNodeType()) {
      case OBJECT: {
        key.append('o').append(node.size()).append(':');
        java.util.Iterator<java.util.Map.Entry<String, JsonNode>> fields = node.fields();
        while (fields.hasNext()) {
          java.util.Map.Entry<String, JsonNode> field = fields.next();
          key.append(field.getKey().length()).append(':').append(field.getKey());
          if (!appendKey(field.getValue(), key) || key.length() > MAX_KEY_CHARS) {
            return false;
          }
        }
        return true;
      }
      case ARRAY:
        key.append('a').append(node.size()).append(':');
        for (JsonNode item : node) {
          if (!appendKey(item, key) || key.length() > MAX_KEY_CHARS) {
            return false;
          }
        }
        return true;
      case STRING:
        key.append('s').append(node.textValue().length()).append(':').append(node.textValue());
        return true;
      case NUMBER: {
        Number n = node.numberValue();
        char type = n instanceof Integer ? 'i' : n instanceof Long ? 'l' : n instanceof Double ? 'd'
            : n instanceof java.math.BigInteger ? 'b' : n instanceof java.math.BigDecimal ? 'm'
            : n instanceof Float ? 'f' : n instanceof Short ? 'h' : 0;
        if (type == 0) {
          return false;
        }
        key.append(type).append(n).append(';');
        return true;
      }
      case BOOLEAN:
        key.append(node.booleanValue() ? 't' : 'f');
        return true;
      case NULL:
        key.append('n');
        return true;
      default:
        return false;
    }
  }

  /**
   * An event for validation against many schemas: the Jackson tree, and the validator's own tree
   * made from it once, when a schema first needs the whole event. Used by one thread at a time
   * (it may be handed to another through a message).
   */
  public static final class Event {
    final JsonNode node;
    private IJsonValue json;

    private Event(JsonNode node) {
      this.node = node;
    }

    /** Parses canonical event text (as produced by {@link CanonicalJson#of}). */
    public static Event parse(String canonicalEvent) {
      return of(CanonicalJson.parse(canonicalEvent));
    }

    /** Parses canonical event text given as UTF-8. */
    public static Event parse(byte[] canonicalEvent) {
      return of(CanonicalJson.parse(canonicalEvent));
    }

    /**
     * The event {@code event}, which must not change while this Event is in use. The
     * validator's tree is built from Jackson's when first needed, not by re-parsing text (the
     * validator's own text parser allocates a large buffer per document). Events carry no source
     * locations (only match or no match is asked of them).
     */
    public static Event of(JsonNode event) {
      return new Event(event);
    }

    IJsonValue json() {
      if (json == null) {
        json = convert(node);
      }
      return json;
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
