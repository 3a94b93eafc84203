/**
 * The tenant-filter audit (docs/scaling.md, "Proving it"): every statement the server sends on a tenant's table must
 * name the tenant, so each one can run on the tenant's shard alone. Statements are parsed with the real Postgres
 * parser (libpg-query) and, for each table of a tenant read or written, the checker wants either
 *   - a condition on its tenant column: `tenant_id = <value>`, `tenant_id IN (…)`, `= ANY (…)`, a row
 *     `(tenant_id, …) IN (…)`, where the value names no other table of the same query level (a parameter, a
 *     constant, a column of an enclosing or lateral query), or
 *   - a join condition `x.tenant_id = y.tenant_id` to a table (or subquery, CTE) that has one.
 * An INSERT must set the tenant column. The tenant column is tenant_id, except `tenants` (its id) and
 * `idempotency_keys` (its scope: a tenant id, or "admin"). Reference tables (number_claims, api_key_lookup,
 * app_lookup) and the operator's `jobs` are global by design and not checked.
 *
 * A condition inside a LEFT JOIN's ON clause only restricts the join's right side; in a FULL JOIN's, neither.
 */
import { loadModule, parseSync } from "libpg-query";

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
};

export interface Violation {
  table: string;
  /** The name the statement gives the table (its alias, or the table name). */
  alias: string;
  reason: string;
}

let loaded: Promise<void> | null = null;
export function loadSqlParser(): Promise<void> {
  loaded ??= loadModule();
  return loaded;
}

type Node = Record<string, unknown>;
const isObject = (v: unknown): v is Node => typeof v === "object" && v !== null && !Array.isArray(v);
const list = (v: unknown): Node[] => (Array.isArray(v) ? (v as Node[]) : []);
/** The single `{ Kind: body }` of a parse-tree node. */
const kindOf = (n: unknown): [string, Node] | null => {
  if (!isObject(n)) return null;
  const keys = Object.keys(n);
  return keys.length === 1 && isObject(n[keys[0]!]) ? [keys[0]!, n[keys[0]!] as Node] : null;
};
const body = (n: unknown, kind: string): Node | null => {
  const k = kindOf(n);
  return k && k[0] === kind ? k[1] : null;
};

/** knex hands `?` placeholders to some drivers; the parser wants `$n`. Quoted text is left alone. */
export function toDollarParams(sql: string): string {
  if (/\$\d/.test(sql)) return sql;
  let n = 0;
  return sql.replace(/'(?:[^']|'')*'|"(?:[^"]|"")*"|\?/g, (m) => (m === "?" ? `$${++n}` : m));
}

interface Rel {
  alias: string;
  /** The tenant table it reads, or null for a CTE, subquery, VALUES or function (checked where it is defined). */
  table: string | null;
  anchored: boolean;
}

interface Scope {
  rels: Rel[];
  /** Aliases of enclosing query levels: a reference to one is a value, like a parameter. */
  outer: Set<string>;
  ctes: Set<string>;
}

class Checker {
  readonly violations: Violation[] = [];

  statement(stmt: unknown, outer = new Set<string>(), ctes = new Set<string>()): void {
    const k = kindOf(stmt);
    if (!k) return;
    const [kind, n] = k;
    if (kind === "SelectStmt") this.select(n, outer, ctes);
    else if (kind === "UpdateStmt") this.modify(n, "fromClause", outer, ctes);
    else if (kind === "DeleteStmt") this.modify(n, "usingClause", outer, ctes);
    else if (kind === "InsertStmt") this.insert(n, outer, ctes);
  }

  private withCtes(n: Node, outer: Set<string>, ctes: Set<string>): Set<string> {
    const withClause = body(n.withClause, "WithClause") ?? (isObject(n.withClause) ? n.withClause : null);
    if (!withClause) return ctes;
    const names = new Set(ctes);
    for (const cte of list(withClause.ctes)) {
      const c = body(cte, "CommonTableExpr");
      if (!c) continue;
      names.add(String(c.ctename));
      this.statement(c.ctequery, outer, names);
    }
    return names;
  }

  private select(n: Node, outer: Set<string>, ctes: Set<string>): void {
    const names = this.withCtes(n, outer, ctes);
    if (n.op && n.op !== "SETOP_NONE") {
      if (n.larg) this.select(n.larg as Node, outer, names);
      if (n.rarg) this.select(n.rarg as Node, outer, names);
      return;
    }
    const scope: Scope = { rels: [], outer, ctes: names };
    const conditions: Array<{ expr: unknown; constrains: Set<Rel> | "all" }> = [];
    for (const item of list(n.fromClause)) this.fromItem(item, scope, conditions);
    if (n.whereClause) conditions.push({ expr: n.whereClause, constrains: "all" });
    this.subqueriesIn([n.targetList, n.whereClause, n.havingClause, n.valuesLists], scope);
    this.settle(scope, conditions);
  }

  private modify(n: Node, fromKey: "fromClause" | "usingClause", outer: Set<string>, ctes: Set<string>): void {
    const names = this.withCtes(n, outer, ctes);
    const scope: Scope = { rels: [], outer, ctes: names };
    const conditions: Array<{ expr: unknown; constrains: Set<Rel> | "all" }> = [];
    const target = n.relation as Node;
    this.addRangeVar(target, scope);
    for (const item of list(n[fromKey])) this.fromItem(item, scope, conditions);
    if (n.whereClause) conditions.push({ expr: n.whereClause, constrains: "all" });
    this.subqueriesIn([n.targetList, n.whereClause], scope);
    this.settle(scope, conditions);
  }

  private insert(n: Node, outer: Set<string>, ctes: Set<string>): void {
    const names = this.withCtes(n, outer, ctes);
    const relation = n.relation as Node;
    const table = String(relation.relname);
    const column = TENANT_COLUMN[table];
    if (column && !names.has(table)) {
      const columns = list(n.cols).map((c) => String(body(c, "ResTarget")?.name ?? ""));
      if (!columns.includes(column)) this.violations.push({ table, alias: table, reason: `INSERT without ${column}` });
    }
    if (n.selectStmt) this.statement(n.selectStmt, outer, names);
  }

  private addRangeVar(rv: Node, scope: Scope): Rel {
    const name = String(rv.relname);
    const alias = String((rv.alias as Node | undefined)?.aliasname ?? name);
    const tenantTable = !scope.ctes.has(name) && name in TENANT_COLUMN ? name : null;
    const rel: Rel = { alias, table: tenantTable, anchored: tenantTable === null };
    scope.rels.push(rel);
    return rel;
  }

  /** Adds a FROM item's relations to the scope; returns them (for the ON clauses above it). */
  private fromItem(item: unknown, scope: Scope, conditions: Array<{ expr: unknown; constrains: Set<Rel> | "all" }>): Set<Rel> {
    const k = kindOf(item);
    if (!k) return new Set();
    const [kind, n] = k;
    if (kind === "RangeVar") return new Set([this.addRangeVar(n, scope)]);
    if (kind === "JoinExpr") {
      const left = this.fromItem(n.larg, scope, conditions);
      const right = this.fromItem(n.rarg, scope, conditions);
      const both = new Set([...left, ...right]);
      const constrains =
        n.jointype === "JOIN_LEFT" ? right : n.jointype === "JOIN_RIGHT" ? left : n.jointype === "JOIN_FULL" ? new Set<Rel>() : both;
      if (n.quals) {
        conditions.push({ expr: n.quals, constrains });
        this.subqueriesIn([n.quals], scope);
      }
      return both;
    }
    // A subquery, function or VALUES list: its rows are checked where they are read; here it only feeds values.
    const alias = String(((n.alias as Node | undefined)?.aliasname as string | undefined) ?? `(${kind})`);
    const rel: Rel = { alias, table: null, anchored: true };
    if (kind === "RangeSubselect") {
      // A LATERAL subquery sees the relations listed before it; any subquery sees the enclosing levels.
      const visible = new Set([...scope.outer, ...scope.rels.map((r) => r.alias)]);
      this.statement(n.subquery, visible, scope.ctes);
    }
    scope.rels.push(rel);
    return new Set([rel]);
  }

  /** Checks the subqueries (EXISTS, IN, scalar) found in these expressions, with this scope as their outer level. */
  private subqueriesIn(exprs: unknown[], scope: Scope): void {
    const visible = new Set([...scope.outer, ...scope.rels.map((r) => r.alias)]);
    const visit = (v: unknown): void => {
      if (Array.isArray(v)) return v.forEach(visit);
      if (!isObject(v)) return;
      const sublink = body(v, "SubLink");
      if (sublink) {
        this.statement(sublink.subselect, visible, scope.ctes);
        visit(sublink.testexpr);
        return;
      }
      for (const value of Object.values(v)) visit(value);
    };
    exprs.forEach(visit);
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

  private settle(scope: Scope, conditions: Array<{ expr: unknown; constrains: Set<Rel> | "all" }>): void {
    const edges: Array<[Rel, Rel]> = [];
    for (const { expr, constrains } of conditions) {
      const canConstrain = (r: Rel) => constrains === "all" || constrains.has(r);
      for (const conjunct of conjuncts(expr)) {
        const anchor = (rels: Rel[]) => rels.filter(canConstrain).forEach((r) => (r.anchored = true));
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

  /** Tenant columns in a column or a row `(a, b, …)` on the left of IN / = ANY. */
  private rowTenantColumns(expr: unknown, scope: Scope): Rel[] {
    const row = body(expr, "RowExpr");
    if (row) return list(row.args).flatMap((a) => this.tenantColumnOf(a, scope));
    const implicitRow = body(expr, "List");
    if (implicitRow) return list(implicitRow.items).flatMap((a) => this.tenantColumnOf(a, scope));
    return this.tenantColumnOf(expr, scope);
  }
}

/** The AND-ed conditions of an expression. */
function conjuncts(expr: unknown): unknown[] {
  const b = body(expr, "BoolExpr");
  if (b && b.boolop === "AND_EXPR") return list(b.args).flatMap(conjuncts);
  return [expr];
}

/**
 * What in `sql` reads or writes a tenant's table without naming the tenant. Needs loadSqlParser() first. A statement
 * the parser refuses is reported as such: the audit never passes what it could not read.
 */
export function tenantFilterViolations(sql: string): Violation[] {
  let tree: { stmts?: Array<{ stmt: unknown }> };
  try {
    tree = parseSync(toDollarParams(sql)) as typeof tree;
  } catch (err) {
    return [{ table: "?", alias: "?", reason: `unparseable: ${(err as Error).message}` }];
  }
  const checker = new Checker();
  for (const { stmt } of tree.stmts ?? []) checker.statement(stmt);
  return checker.violations;
}
