package dev.ballista.conformance;

import com.google.protobuf.util.JsonFormat;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The Java testee of the cross-language conformance suite ({@code integration/conformance/}):
 * builds every case of {@link Cases} and prints one JSON line per case, the protocol {@code
 * run.py} reads: {@code {"case": ..., "plan_base64": ..., "plan_json": {...}}}, or {@code
 * {"case": ..., "error": ...}} when the builder fails. With arguments, prints only those cases.
 */
public final class Testee {
  private Testee() {}

  /**
   * Prints the cases.
   *
   * @param args case names, or none for all
   */
  public static void main(String[] args) {
    Set<String> wanted = Set.of(args);
    List<Cases.Case> cases = Cases.all();
    Set<String> known = cases.stream().map(Cases.Case::name).collect(Collectors.toSet());
    for (String w : wanted) {
      if (!known.contains(w)) {
        System.err.println("conformance testee: unknown case `" + w + "`");
        System.exit(1);
      }
    }
    PrintStream out = new PrintStream(System.out, false, StandardCharsets.UTF_8);
    for (Cases.Case c : cases) {
      if (!wanted.isEmpty() && !wanted.contains(c.name())) {
        continue;
      }
      out.println(line(c));
    }
    out.flush();
  }

  /**
   * One protocol line.
   *
   * @param c the case
   * @return its JSON line
   */
  static String line(Cases.Case c) {
    try {
      var plan = c.build().get().plan();
      String json = JsonFormat.printer().omittingInsignificantWhitespace().print(plan);
      return "{\"case\": "
          + quote(c.name())
          + ", \"plan_base64\": "
          + quote(Base64.getEncoder().encodeToString(plan.toByteArray()))
          + ", \"plan_json\": "
          + json
          + "}";
    } catch (Exception e) {
      return "{\"case\": " + quote(c.name()) + ", \"error\": " + quote(e.toString()) + "}";
    }
  }

  private static String quote(String s) {
    StringBuilder b = new StringBuilder("\"");
    for (char ch : s.toCharArray()) {
      switch (ch) {
        case '"':
          b.append("\\\"");
          break;
        case '\\':
          b.append("\\\\");
          break;
        case '\n':
          b.append("\\n");
          break;
        default:
          if (ch < 0x20) {
            b.append(String.format("\\u%04x", (int) ch));
          } else {
            b.append(ch);
          }
      }
    }
    return b.append('"').toString();
  }
}
