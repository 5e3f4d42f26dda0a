package dev.ballista.client;

import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.apache.arrow.vector.DateDayVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.util.Text;

/**
 * One result row, with Java values: numbers as their boxed types, strings as {@link String},
 * decimals as {@link java.math.BigDecimal}, Date32 as {@link LocalDate}, NULL as {@code null},
 * other types as Arrow Java's {@code getObject} gives them.
 */
public final class Row {
  private final List<String> names;
  private final List<Object> values;

  Row(List<String> names, List<Object> values) {
    this.names = names;
    this.values = values;
  }

  /**
   * The value of one cell of an Arrow vector, as a {@link Row} holds it.
   *
   * @param vector the column
   * @param index the row
   * @return the Java value, or null
   */
  public static Object value(FieldVector vector, int index) {
    if (vector.isNull(index)) {
      return null;
    }
    if (vector instanceof DateDayVector) {
      return LocalDate.ofEpochDay(((DateDayVector) vector).get(index));
    }
    Object v = vector.getObject(index);
    if (v instanceof Text) {
      return v.toString();
    }
    return v;
  }

  /**
   * The rows of an Arrow batch.
   *
   * @param root the batch
   * @return its rows
   */
  public static List<Row> of(VectorSchemaRoot root) {
    List<String> names = new ArrayList<>();
    for (FieldVector v : root.getFieldVectors()) {
      names.add(v.getName());
    }
    names = Collections.unmodifiableList(names);
    List<Row> rows = new ArrayList<>(root.getRowCount());
    for (int i = 0; i < root.getRowCount(); i++) {
      List<Object> values = new ArrayList<>(names.size());
      for (FieldVector v : root.getFieldVectors()) {
        values.add(value(v, i));
      }
      rows.add(new Row(names, Collections.unmodifiableList(values)));
    }
    return rows;
  }

  /** @return the number of columns */
  public int size() {
    return values.size();
  }

  /** @return the column names */
  public List<String> names() {
    return names;
  }

  /** @return the values, in column order */
  public List<Object> values() {
    return values;
  }

  /**
   * @param i column index
   * @return the value, or null
   */
  public Object get(int i) {
    return values.get(i);
  }

  /**
   * @param name column name
   * @return the value of the first column of that name, or null
   * @throws IllegalArgumentException if there is no such column
   */
  public Object get(String name) {
    int i = names.indexOf(name);
    if (i < 0) {
      throw new IllegalArgumentException("no column `" + name + "` in " + names);
    }
    return values.get(i);
  }

  /** @param i column index @return the value as a long (it must be a number) */
  public long getLong(int i) {
    return ((Number) values.get(i)).longValue();
  }

  /** @param i column index @return the value as a double (it must be a number) */
  public double getDouble(int i) {
    return ((Number) values.get(i)).doubleValue();
  }

  /** @param i column index @return the value as text, or null */
  public String getString(int i) {
    Object v = values.get(i);
    return v == null ? null : v.toString();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Row && ((Row) o).values.equals(values) && ((Row) o).names.equals(names);
  }

  @Override
  public int hashCode() {
    return values.hashCode();
  }

  @Override
  public String toString() {
    return values.toString();
  }

  /** A batch as a text table with a header, NULL printed as {@code NULL}. */
  static String table(VectorSchemaRoot root) {
    List<Row> rows = of(root);
    int n = root.getFieldVectors().size();
    List<String> header = new ArrayList<>();
    for (FieldVector v : root.getFieldVectors()) {
      header.add(v.getName());
    }
    int[] widths = new int[n];
    List<List<String>> cells = new ArrayList<>();
    cells.add(header);
    for (Row r : rows) {
      List<String> line = new ArrayList<>();
      for (Object v : r.values) {
        line.add(v == null ? "NULL" : v.toString());
      }
      cells.add(line);
    }
    for (List<String> line : cells) {
      for (int i = 0; i < n; i++) {
        widths[i] = Math.max(widths[i], line.get(i).length());
      }
    }
    StringBuilder rule = new StringBuilder("+");
    for (int w : widths) {
      rule.append("-".repeat(w + 2)).append('+');
    }
    rule.append('\n');
    StringBuilder out = new StringBuilder(rule);
    for (int l = 0; l < cells.size(); l++) {
      out.append('|');
      for (int i = 0; i < n; i++) {
        String c = cells.get(l).get(i);
        out.append(' ').append(c).append(" ".repeat(widths[i] - c.length())).append(" |");
      }
      out.append('\n');
      if (l == 0) {
        out.append(rule);
      }
    }
    out.append(rule);
    return out.toString();
  }
}
