package dev.ballista.conformance;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.util.JsonFormat;
import dev.ballista.client.it.TestSupport;
import dev.ballista.proto.v1.Relation;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Every golden case of {@code integration/conformance/cases/}: the Java builders produce exactly
 * the bytes of {@code plan.binpb}, and a plan equal to {@code plan.json}. (The cross-language
 * runner, {@code make conformance}, checks the same through {@link Testee}.)
 */
class ConformanceTest {
  private static final Path CASES = TestSupport.repoRoot().resolve("integration/conformance/cases");
  private static final Map<String, Cases.Case> JAVA =
      Cases.all().stream().collect(Collectors.toMap(Cases.Case::name, Function.identity()));

  private static List<String> goldenCases() throws IOException {
    try (Stream<Path> dirs = Files.list(CASES)) {
      return dirs.filter(Files::isDirectory)
          .map(p -> p.getFileName().toString())
          .sorted()
          .collect(Collectors.toList());
    }
  }

  @Test
  void javaBuildsExactlyTheGoldenCases() throws IOException {
    assertEquals(new TreeSet<>(goldenCases()), new TreeSet<>(JAVA.keySet()));
  }

  @TestFactory
  Stream<DynamicTest> planBytesEqualTheGoldenFiles() throws IOException {
    return goldenCases().stream()
        .map(
            name ->
                DynamicTest.dynamicTest(
                    name,
                    () -> {
                      Cases.Case c = JAVA.get(name);
                      assertTrue(c != null, "no Java builder for case " + name);
                      Relation plan = c.build().get().plan();
                      byte[] golden = Files.readAllBytes(CASES.resolve(name).resolve("plan.binpb"));
                      assertArrayEquals(golden, plan.toByteArray(), name + ": plan bytes differ");
                      Relation.Builder fromJson = Relation.newBuilder();
                      JsonFormat.parser()
                          .merge(Files.readString(CASES.resolve(name).resolve("plan.json")), fromJson);
                      assertEquals(fromJson.build(), plan, name + ": plan differs from plan.json");
                    }));
  }

  @Test
  void testeeLinesFollowTheProtocol() {
    String line = Testee.line(JAVA.get("read_table"));
    assertTrue(line.startsWith("{\"case\": \"read_table\", \"plan_base64\": \""), line);
    assertTrue(line.contains("\"plan_json\": {\"readTable\""), line);
  }
}
