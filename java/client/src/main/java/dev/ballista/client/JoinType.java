package dev.ballista.client;

/** How {@link DataFrame#join} combines rows of its two inputs. */
public enum JoinType {
  /** Matching pairs only. */
  INNER(dev.ballista.proto.v1.JoinType.JOIN_TYPE_INNER),
  /** Every left row; NULLs where no right row matches. */
  LEFT(dev.ballista.proto.v1.JoinType.JOIN_TYPE_LEFT),
  /** Every right row; NULLs where no left row matches. */
  RIGHT(dev.ballista.proto.v1.JoinType.JOIN_TYPE_RIGHT),
  /** Every row of both sides. */
  FULL(dev.ballista.proto.v1.JoinType.JOIN_TYPE_FULL),
  /** Left rows with at least one match (left columns only). */
  LEFT_SEMI(dev.ballista.proto.v1.JoinType.JOIN_TYPE_LEFT_SEMI),
  /** Left rows without a match (left columns only). */
  LEFT_ANTI(dev.ballista.proto.v1.JoinType.JOIN_TYPE_LEFT_ANTI),
  /** Right rows with at least one match (right columns only). */
  RIGHT_SEMI(dev.ballista.proto.v1.JoinType.JOIN_TYPE_RIGHT_SEMI),
  /** Right rows without a match (right columns only). */
  RIGHT_ANTI(dev.ballista.proto.v1.JoinType.JOIN_TYPE_RIGHT_ANTI);

  private final dev.ballista.proto.v1.JoinType proto;

  JoinType(dev.ballista.proto.v1.JoinType proto) {
    this.proto = proto;
  }

  /** @return the spec enum value */
  public dev.ballista.proto.v1.JoinType toProto() {
    return proto;
  }
}
