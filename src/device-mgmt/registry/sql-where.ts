/**
 * A WHERE clause built from the filters a caller gave: each condition with `?` placeholders and
 * its values in order, so no filter value is ever spliced into the SQL text.
 */
export class SqlWhere {
  private readonly conditions: string[] = [];
  /** The placeholders' values, in the order they appear. */
  readonly args: unknown[] = [];

  /** `column = ?` when `value` is given. */
  equals(column: string, value: unknown): this {
    if (value !== undefined) {
      this.conditions.push(`${column} = ?`);
      this.args.push(value);
    }
    return this;
  }

  /** `column IN (?, …)` when `values` is given and not empty. */
  isIn(column: string, values: readonly unknown[] | undefined): this {
    if (values && values.length > 0) {
      this.conditions.push(`${column} IN (${values.map(() => '?').join(',')})`);
      this.args.push(...values);
    }
    return this;
  }

  /** `WHERE a AND b …`, or nothing when no filter was given. */
  get sql(): string {
    return this.conditions.length ? 'WHERE ' + this.conditions.join(' AND ') : '';
  }
}
