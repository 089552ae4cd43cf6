package dev.kqat.runtime.settings;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * A settings record: plain data whose bounds are checked here once. Constructors accept any value,
 * so that a script can be built completely and every mistake reported at once; {@link #problems()}
 * names each bad component, and the runtime calls {@link #requireValid()} before it uses a value.
 */
public interface Settings {
  /**
   * What is wrong with this value, by component path relative to it ({@code bits},
   * {@code learningRate.delay}); empty when it is valid.
   */
  Map<String, String> problems();

  /** This value, or {@link IllegalArgumentException} listing every problem. */
  default <T extends Settings> T requireValid() {
    Map<String, String> bad = problems();
    if (!bad.isEmpty()) {
      throw new IllegalArgumentException(getClass().getSimpleName() + ": " + bad.entrySet().stream()
          .map(e -> e.getKey() + ": " + e.getValue()).collect(Collectors.joining("; ")));
    }
    @SuppressWarnings("unchecked")
    T self = (T) this;
    return self;
  }

  /** Collects problems by component path. */
  final class Problems {
    private final Map<String, String> found = new LinkedHashMap<>();

    public Problems check(boolean ok, String field, String message) {
      if (!ok) {
        found.putIfAbsent(field, message);
      }
      return this;
    }

    /** The problems of a nested value, each under {@code field.}; nothing for null. */
    public Problems nested(String field, Settings value) {
      if (value != null) {
        value.problems().forEach((k, v) -> found.putIfAbsent(field + "." + k, v));
      }
      return this;
    }

    public Problems bits(String field, Integer bits) {
      return check(bits == null || (bits >= MIN_BITS && bits <= MAX_BITS), field,
          "bits must be in " + MIN_BITS + ".." + MAX_BITS + ", got " + bits);
    }

    public Map<String, String> toMap() {
      return new LinkedHashMap<>(found);
    }
  }

  /** Bit-widths any quantizer accepts. */
  int MIN_BITS = 2;
  int MAX_BITS = 16;
}
