package dev.ballista.client;

import dev.ballista.proto.v1.KeyValue;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Options of a file scan: format options in the order given (so plans are byte-identical in every
 * language), e.g. {@code ReadOptions.of().option("has_header", "true")} for CSV. Immutable.
 */
public final class ReadOptions {
  private final List<KeyValue> options;

  private ReadOptions(List<KeyValue> options) {
    this.options = options;
  }

  /** @return no options; the schema is inferred from the files */
  public static ReadOptions of() {
    return new ReadOptions(List.of());
  }

  /**
   * @param key option name, such as {@code has_header} or {@code delimiter}
   * @param value its value
   * @return these options and that one
   */
  public ReadOptions option(String key, String value) {
    List<KeyValue> next = new ArrayList<>(options);
    next.add(KeyValue.newBuilder().setKey(key).setValue(value).build());
    return new ReadOptions(Collections.unmodifiableList(next));
  }

  /** @return the options as spec messages */
  public List<KeyValue> toProto() {
    return options;
  }
}
