/**
 * The prepared statements of one repository: each prepared once, on first use, and kept. A
 * plucking statement (first column only) is kept apart from a row one, as `.pluck()` changes
 * the statement it is called on.
 */
import type Database from 'better-sqlite3';
import type { Sqlite } from '../../db/database';

export type Statement = Database.Statement<unknown[]>;

export class Statements {
  private readonly rows = new Map<string, Statement>();
  private readonly plucked = new Map<string, Statement>();

  constructor(private readonly db: Sqlite) {}

  /** The statement of `sql`, returning rows. */
  row(sql: string): Statement {
    let s = this.rows.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.rows.set(sql, s);
    }
    return s;
  }

  /** The statement of `sql`, returning its first column only. */
  pluck(sql: string): Statement {
    let s = this.plucked.get(sql);
    if (!s) {
      s = this.db.prepare(sql).pluck();
      this.plucked.set(sql, s);
    }
    return s;
  }

  /** `row(sql)`, or `pluck(sql)` when `plucking`. */
  get(sql: string, plucking = false): Statement {
    return plucking ? this.pluck(sql) : this.row(sql);
  }
}
