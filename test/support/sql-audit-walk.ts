/**
 * The query-level walk of the tenant-filter audit (test/support/sql-audit.ts): a Postgres parse tree (libpg-query)
 * turned into one scope per query level, each with the relations its FROM lists and the conditions that restrict
 * them, and every SELECT, UPDATE, DELETE, INSERT, CTE, subquery and lateral step visited. What the conditions have to
 * say is the checker's business, not the walk's.
 */
import { loadModule, parseSync } from "libpg-query";

let loaded: Promise<void> | null = null;
export function loadSqlParser(): Promise<void> {
  loaded ??= loadModule();
  return loaded;
}

/** knex hands `?` placeholders to some drivers; the parser wants `$n`. Quoted text is left alone. */
export function toDollarParams(sql: string): string {
  if (/\$\d/.test(sql)) return sql;
  let n = 0;
  return sql.replace(/'(?:[^']|'')*'|"(?:[^"]|"")*"|\?/g, (m) => (m === "?" ? `$${++n}` : m));
}

/** The statements of `sql`; throws what the parser refuses. Needs loadSqlParser() first. */
export function parseStatements(sql: string): unknown[] {
  const tree = parseSync(toDollarParams(sql)) as { stmts?: Array<{ stmt: unknown }> };
  return (tree.stmts ?? []).map((s) => s.stmt);
}

export type Node = Record<string, unknown>;
export const isObject = (v: unknown): v is Node => typeof v === "object" && v !== null && !Array.isArray(v);
export const list = (v: unknown): Node[] => (Array.isArray(v) ? (v as Node[]) : []);
/** The single `{ Kind: body }` of a parse-tree node. */
export const kindOf = (n: unknown): [string, Node] | null => {
  if (!isObject(n)) return null;
  const keys = Object.keys(n);
  return keys.length === 1 && isObject(n[keys[0]!]) ? [keys[0]!, n[keys[0]!] as Node] : null;
};
export const body = (n: unknown, kind: string): Node | null => {
  const k = kindOf(n);
  return k && k[0] === kind ? k[1] : null;
};

/** The AND-ed conditions of an expression. */
export function conjuncts(expr: unknown): unknown[] {
  const b = body(expr, "BoolExpr");
  if (b && b.boolop === "AND_EXPR") return list(b.args).flatMap(conjuncts);
  return [expr];
}

export interface Rel {
  alias: string;
  /** The tracked table it reads, or null for any other table, a CTE, subquery, VALUES or function. */
  table: string | null;
  anchored: boolean;
}

export interface Scope {
  rels: Rel[];
  /** Aliases of enclosing query levels: a reference to one is a value, like a parameter. */
  outer: Set<string>;
  ctes: Set<string>;
}

/** A condition and the relations it may restrict ("all": a WHERE; a join's ON clause restricts fewer). */
export interface Condition {
  expr: unknown;
  constrains: Set<Rel> | "all";
}

export abstract class QueryWalker {
  /** @param tracked the tables whose relations the walk marks (Rel.table); reads of others stay anonymous. */
  constructor(private readonly tracked: (table: string) => boolean) {}

  /** One query level, its relations all listed and its conditions gathered. */
  protected abstract level(scope: Scope, conditions: Condition[]): void;
  /** An INSERT into a real table (not a CTE) and the columns it sets. */
  protected abstract insertInto(table: string, columns: string[]): void;

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
    const conditions: Condition[] = [];
    for (const item of list(n.fromClause)) this.fromItem(item, scope, conditions);
    if (n.whereClause) conditions.push({ expr: n.whereClause, constrains: "all" });
    this.subqueriesIn([n.targetList, n.whereClause, n.havingClause, n.valuesLists], scope);
    this.level(scope, conditions);
  }

  private modify(n: Node, fromKey: "fromClause" | "usingClause", outer: Set<string>, ctes: Set<string>): void {
    const names = this.withCtes(n, outer, ctes);
    const scope: Scope = { rels: [], outer, ctes: names };
    const conditions: Condition[] = [];
    this.addRangeVar(n.relation as Node, scope);
    for (const item of list(n[fromKey])) this.fromItem(item, scope, conditions);
    if (n.whereClause) conditions.push({ expr: n.whereClause, constrains: "all" });
    this.subqueriesIn([n.targetList, n.whereClause], scope);
    this.level(scope, conditions);
  }

  private insert(n: Node, outer: Set<string>, ctes: Set<string>): void {
    const names = this.withCtes(n, outer, ctes);
    const table = String((n.relation as Node).relname);
    if (!names.has(table)) this.insertInto(table, list(n.cols).map((c) => String(body(c, "ResTarget")?.name ?? "")));
    if (n.selectStmt) this.statement(n.selectStmt, outer, names);
  }

  private addRangeVar(rv: Node, scope: Scope): Rel {
    const name = String(rv.relname);
    const alias = String((rv.alias as Node | undefined)?.aliasname ?? name);
    const table = !scope.ctes.has(name) && this.tracked(name) ? name : null;
    const rel: Rel = { alias, table, anchored: table === null };
    scope.rels.push(rel);
    return rel;
  }

  /** Adds a FROM item's relations to the scope; returns them (for the ON clauses above it). */
  private fromItem(item: unknown, scope: Scope, conditions: Condition[]): Set<Rel> {
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

  /** Walks the subqueries (EXISTS, IN, scalar) found in these expressions, with this scope as their outer level. */
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
}
