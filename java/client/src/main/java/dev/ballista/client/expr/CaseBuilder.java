package dev.ballista.client.expr;

import dev.ballista.proto.v1.Case;
import dev.ballista.proto.v1.Expression;
import dev.ballista.proto.v1.WhenThen;
import java.util.ArrayList;
import java.util.List;

/**
 * A CASE expression being built: {@code when(c1).then(v1).when(c2).then(v2).otherwise(v3)}, or
 * {@code caseOf(x).when(lit(1)).then(lit("one")).end()}. Immutable.
 */
public final class CaseBuilder {
  private final Expr operand;
  private final List<WhenThen> branches;

  CaseBuilder(Expr operand, List<WhenThen> branches) {
    this.operand = operand;
    this.branches = branches;
  }

  /**
   * Adds a {@code WHEN condition} branch.
   *
   * @param condition the condition (or the value compared with the operand)
   * @return the branch, waiting for its {@link When#then} value
   */
  public When when(Expr condition) {
    return new When(this, condition);
  }

  /**
   * Finishes with {@code ELSE value}.
   *
   * @param value the value when no branch matches
   * @return the CASE expression
   */
  public Expr otherwise(Expr value) {
    return build(value);
  }

  /** @return the CASE expression without ELSE (NULL when no branch matches) */
  public Expr end() {
    return build(null);
  }

  private Expr build(Expr elseResult) {
    Case.Builder c = Case.newBuilder();
    if (operand != null) {
      c.setOperand(operand.toProto());
    }
    c.addAllWhenThen(branches);
    if (elseResult != null) {
      c.setElseResult(elseResult.toProto());
    }
    return Expr.fromProto(Expression.newBuilder().setCase(c).build());
  }

  /** A CASE branch waiting for its value. */
  public static final class When {
    private final CaseBuilder builder;
    private final Expr condition;

    When(CaseBuilder builder, Expr condition) {
      this.builder = builder;
      this.condition = condition;
    }

    /**
     * The value of this branch.
     *
     * @param value the branch's result
     * @return the CASE being built
     */
    public CaseBuilder then(Expr value) {
      List<WhenThen> branches = new ArrayList<>(builder.branches);
      branches.add(
          WhenThen.newBuilder().setWhen(condition.toProto()).setThen(value.toProto()).build());
      return new CaseBuilder(builder.operand, branches);
    }
  }
}
