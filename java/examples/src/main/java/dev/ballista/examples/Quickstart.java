package dev.ballista.examples;

import static dev.ballista.client.expr.Functions.*;

import dev.ballista.client.Ballista;
import dev.ballista.client.DataFrame;
import dev.ballista.client.ReadOptions;
import dev.ballista.client.Session;

/** Ballista from Java: an embedded cluster, a table, a query built with the DataFrame API. */
public final class Quickstart {
  public static void main(String[] args) {
    // A scheduler and two executors inside this JVM, talking Arrow Flight on loopback.
    try (Session session = Ballista.standalone(2)) {
      session.registerCsv("orders", "integration/conformance/tables/orders.csv",
          ReadOptions.of().option("has_header", "true"));
      DataFrame perStatus = session.table("orders")
          .filter(col("amount").gt(lit(5.0)))
          .groupBy(col("status"))
          .agg(countAll().alias("orders"), sum(col("amount")).alias("total"))
          .sort(col("total").desc());
      perStatus.show();
      System.out.println(perStatus.explain());
      System.out.println("orders: " + session.sql("SELECT * FROM orders").count());
    }
  }
}
