/**
 * The tenant-filter audit (docs/scaling.md, "Proving it"): every statement the server sends on a tenant's table must
 * name the tenant, so each one can run on the tenant's shard alone. Statements are parsed with the real Postgres
 * parser (libpg-query) and walked one query level at a time (test/support/sql-audit-walk.ts); for each table of a
 * tenant read or written, the checker wants either
 *   - a condition on its tenant column: `tenant_id = <value>`, `tenant_id IN (…)`, `= ANY (…)`, a row
 *     `(tenant_id, …) IN (…)`, where the value names no other table of the same query level (a parameter, a
 *     constant, a column of an enclosing or lateral query), or
 *   - a join condition `x.tenant_id = y.tenant_id` to a table (or subquery, CTE) that has one.
 * An INSERT must set the tenant column. The tenant column is tenant_id, except `tenants` (its id) and
 * `idempotency_keys` and `console_sessions` (their scope: a tenant id, or "admin"/"operator"). Reference tables (number_claims, api_key_lookup,
 * app_lookup) and the operator's `jobs` are global by design and not checked.
 *
 * A condition inside a LEFT JOIN's ON clause only restricts the join's right side; in a FULL JOIN's, neither.
 *
 * The same statements are checked against the append-only tables (the audit log, docs/audit-log.md): see
 * appendOnlyViolations at the end of this file.
 */
import { body, conjuncts, list, isObject, parseStatements, QueryWalker, type Condition, type Node, type Rel, type Scope } from "./sql-audit-walk.js";

export { loadSqlParser, toDollarParams } from "./sql-audit-walk.js";

/** Tenant tables and the column that names the tenant. */
export const TENANT_COLUMN: Readonly<Record<string, string>> = {
  tenants: "id",
  api_keys: "tenant_id",
  apps: "tenant_id",
  numbers: "tenant_id",
  sessions: "tenant_id",
  participants: "tenant_id",
  calls: "tenant_id",
  webhook_nonces: "tenant_id",
  outbox: "tenant_id",
  idempotency_keys: "scope",
  audit_events: "tenant_id",
  pool_gauges: "tenant_id",
  console_sessions: "scope",
};

export interface Violation {
  table: string;
  /** The name the statement gives the table (its alias, or the table name). */
  alias: string;
  reason: string;
}

class TenantFilterChecker extends QueryWalker {
  readonly violations: Violation[] = [];

  constructor() {
    super((table) => table in TENANT_COLUMN);
  }

  protected insertInto(table: string, columns: string[]): void {
    const column = TENANT_COLUMN[table];
    if (column && !columns.includes(column)) this.violations.push({ table, alias: table, reason: `INSERT without ${column}` });
  }

  protected level(scope: Scope, conditions: Condition[]): void {
    const edges: Array<[Rel, Rel]> = [];
    for (const { expr, constrains } of conditions) {
      const canConstrain = (r: Rel) => constrains === "all" || constrains.has(r);
      const anchor = (rels: Rel[]) => rels.filter(canConstrain).forEach((r) => (r.anchored = true));
      for (const conjunct of conjuncts(expr)) {
        const aexpr = body(conjunct, "A_Expr");
        if (aexpr) {
          const op = body(list(aexpr.name)[0], "String")?.sval;
          if (op !== "=") continue;
          const kind = aexpr.kind;
          if (kind === "AEXPR_OP") {
            const left = this.tenantColumnOf(aexpr.lexpr, scope);
            const right = this.tenantColumnOf(aexpr.rexpr, scope);
            if (left.length && this.isValue(aexpr.rexpr, scope)) anchor(left);
            if (right.length && this.isValue(aexpr.lexpr, scope)) anchor(right);
            for (const a of left) for (const b of right) {
              if (canConstrain(b)) edges.push([a, b]);
              if (canConstrain(a)) edges.push([b, a]);
            }
          } else if ((kind === "AEXPR_IN" || kind === "AEXPR_OP_ANY") && this.isValue(aexpr.rexpr, scope)) {
            anchor(this.rowTenantColumns(aexpr.lexpr, scope));
          }
          continue;
        }
        const sublink = body(conjunct, "SubLink");
        if (sublink && sublink.subLinkType === "ANY_SUBLINK") anchor(this.rowTenantColumns(sublink.testexpr, scope));
      }
    }
    for (let changed = true; changed; ) {
      changed = false;
      for (const [from, to] of edges) {
        if (from.anchored && !to.anchored) changed = to.anchored = true;
      }
    }
    for (const rel of scope.rels) {
      if (rel.table && !rel.anchored) {
        const column = TENANT_COLUMN[rel.table]!;
        this.violations.push({ table: rel.table, alias: rel.alias, reason: `no ${column} condition or join on ${column}` });
      }
    }
  }

  /** Which relations of the scope a column reference names (none: an outer reference or a parameter). */
  private resolve(ref: Node, scope: Scope): { rels: Rel[]; column: string } | null {
    const fields = list(ref.fields).map((f) => (body(f, "String")?.sval as string | undefined) ?? "*");
    const column = fields[fields.length - 1]!;
    if (fields.length >= 2) {
      const alias = fields[fields.length - 2]!;
      const rel = scope.rels.find((r) => r.alias === alias);
      return rel ? { rels: [rel], column } : null;
    }
    return { rels: scope.rels.length === 1 ? scope.rels : scope.rels.filter((r) => this.isTenantColumn(r, column)), column };
  }

  private isTenantColumn(rel: Rel, column: string): boolean {
    return rel.table === null ? column === "tenant_id" : TENANT_COLUMN[rel.table] === column;
  }

  /** The scope's relations whose tenant column `expr` is (a bare column reference), if it is one. */
  private tenantColumnOf(expr: unknown, scope: Scope): Rel[] {
    const ref = body(expr, "ColumnRef");
    if (!ref) return [];
    const resolved = this.resolve(ref, scope);
    return resolved ? resolved.rels.filter((r) => this.isTenantColumn(r, resolved.column)) : [];
  }

  /** True when `expr` reads no column of this query level (parameters, constants, outer references only). */
  private isValue(expr: unknown, scope: Scope): boolean {
    let local = false;
    const visit = (v: unknown): void => {
      if (local) return;
      if (Array.isArray(v)) return v.forEach(visit);
      if (!isObject(v)) return;
      if (body(v, "SubLink")) return; // a subquery's own columns are its level's, checked there
      const ref = body(v, "ColumnRef");
      if (ref) {
        const resolved = this.resolve(ref, scope);
        if (resolved && (resolved.rels.length > 0 || list(ref.fields).length === 1)) local = true;
        return;
      }
      for (const value of Object.values(v)) visit(value);
    };
    visit(expr);
    return !local;
  }

  /** Tenant columns in a column or a row `(a, b, …)` on the left of IN / = ANY. */
  private rowTenantColumns(expr: unknown, scope: Scope): Rel[] {
    const row = body(expr, "RowExpr");
    if (row) return list(row.args).flatMap((a) => this.tenantColumnOf(a, scope));
    const implicitRow = body(expr, "List");
    if (implicitRow) return list(implicitRow.items).flatMap((a) => this.tenantColumnOf(a, scope));
    return this.tenantColumnOf(expr, scope);
  }
}

/**
 * What in `sql` reads or writes a tenant's table without naming the tenant. Needs loadSqlParser() first. A statement
 * the parser refuses is reported as such: the audit never passes what it could not read.
 */
export function tenantFilterViolations(sql: string): Violation[] {
  let statements: unknown[];
  try {
    statements = parseStatements(sql);
  } catch (err) {
    return [{ table: "?", alias: "?", reason: `unparseable: ${(err as Error).message}` }];
  }
  const checker = new TenantFilterChecker();
  for (const stmt of statements) checker.statement(stmt);
  return checker.violations;
}

/**
 * Append-only tables (docs/audit-log.md): rows are inserted and read, never changed. Any UPDATE of one (an upsert's
 * DO UPDATE and a MERGE included), any TRUNCATE, and any DELETE not sent by a function that
 * test/support/sql-audit-allowlist.ts names for it (the retention purge) fails the suite.
 */
export const APPEND_ONLY_TABLES: ReadonlySet<string> = new Set(["audit_events"]);

export interface AppendOnlyViolation {
  table: string;
  write: "update" | "delete" | "truncate";
}

/**
 * What in `sql` changes or removes rows of an append-only table, at any depth (a CTE, a subquery). A statement the
 * parser refuses is left to tenantFilterViolations, which reports it. Needs loadSqlParser() first.
 */
export function appendOnlyViolations(sql: string): AppendOnlyViolation[] {
  if (![...APPEND_ONLY_TABLES].some((t) => sql.includes(t))) return [];
  let statements: unknown[];
  try {
    statements = parseStatements(sql);
  } catch {
    return [];
  }
  const found: AppendOnlyViolation[] = [];
  const named = (rv: unknown): string | null => {
    const name = (body(rv, "RangeVar") ?? (isObject(rv) ? rv : null))?.relname;
    return typeof name === "string" && APPEND_ONLY_TABLES.has(name) ? name : null;
  };
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) return v.forEach(visit);
    if (!isObject(v)) return;
    const update = body(v, "UpdateStmt");
    const del = body(v, "DeleteStmt");
    const insert = body(v, "InsertStmt");
    const merge = body(v, "MergeStmt");
    const truncate = body(v, "TruncateStmt");
    const table = (n: Node | null) => (n ? named(n.relation) : null);
    if (table(update)) found.push({ table: table(update)!, write: "update" });
    if (table(del)) found.push({ table: table(del)!, write: "delete" });
    if (table(merge)) found.push({ table: table(merge)!, write: "update" });
    const onConflict = insert && (body(insert.onConflictClause, "OnConflictClause") ?? (isObject(insert.onConflictClause) ? insert.onConflictClause : null));
    if (table(insert) && onConflict?.action === "ONCONFLICT_UPDATE") found.push({ table: table(insert)!, write: "update" });
    for (const rel of list(truncate?.relations)) {
      const t = named(rel);
      if (t) found.push({ table: t, write: "truncate" });
    }
    for (const value of Object.values(v)) visit(value);
  };
  statements.forEach(visit);
  return found;
}
