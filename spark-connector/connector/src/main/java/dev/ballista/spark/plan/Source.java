package dev.ballista.spark.plan;

import static dev.ballista.client.expr.Functions.col;

import dev.ballista.client.DataFrame;
import dev.ballista.client.expr.Expr;
import dev.ballista.spark.ClusterClient;
import dev.ballista.spark.arrow.SparkTypes;
import dev.ballista.spark.shaded.org.apache.arrow.vector.types.pojo.ArrowType;
import dev.ballista.spark.shaded.org.apache.arrow.vector.types.pojo.Field;
import dev.ballista.spark.shaded.org.apache.arrow.vector.types.pojo.FieldType;
import dev.ballista.spark.shaded.org.apache.arrow.vector.types.pojo.Schema;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.types.StructType;

/**
 * A plan whose columns all have types Spark reads, and its Spark schema.
 *
 * <p>The schema comes from the cluster ({@link ClusterClient#schema}); columns whose Arrow type
 * Spark's vectors do not take are cast by a projection on the cluster (see {@link SparkTypes}),
 * so what Spark receives is exactly what it was promised.
 */
public final class Source {
  private final DataFrame plan;
  private final StructType schema;

  private Source(DataFrame plan, StructType schema) {
    this.plan = plan;
    this.schema = schema;
  }

  /**
   * Asks the cluster for the schema of {@code plan} and adds the casts Spark needs.
   *
   * @param client the scheduler
   * @param plan the plan
   * @return the plan as Spark reads it
   */
  public static Source of(ClusterClient client, DataFrame plan) {
    Schema arrow = client.schema(plan);
    List<Field> fields = new ArrayList<>();
    List<Expr> projection = new ArrayList<>();
    boolean cast = false;
    for (Field f : arrow.getFields()) {
      ArrowType target = SparkTypes.sparkArrowType(f);
      if (target.equals(f.getType())) {
        fields.add(f);
        projection.add(col(f.getName()));
      } else {
        cast = true;
        fields.add(
            new Field(f.getName(), new FieldType(f.isNullable(), target, null), List.of()));
        projection.add(col(f.getName()).cast(target).alias(f.getName()));
      }
    }
    DataFrame out = cast ? plan.select(projection.toArray(new Expr[0])) : plan;
    return new Source(out, SparkTypes.sparkSchema(fields));
  }

  /** @return the plan (with casts where needed) */
  public DataFrame plan() {
    return plan;
  }

  /** @return its Spark schema */
  public StructType schema() {
    return schema;
  }
}
