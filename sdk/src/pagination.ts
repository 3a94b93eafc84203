/** One page of a cursor-paginated list, as the API returns it. */
export interface PageResponse<T> {
  data: T[];
  nextCursor?: string | null;
}

/** Loads the page that starts at `cursor` (the first page when undefined). */
export type PageLoader<T> = (cursor: string | undefined) => Promise<PageResponse<T>>;

/**
 * A page of results. Not thenable. Iterating it with `for await` yields every item of this page and of all the
 * pages after it, fetching them as needed.
 */
export class Page<T> implements AsyncIterable<T> {
  readonly data: T[];
  readonly nextCursor: string | null;
  readonly hasMore: boolean;
  readonly #load: PageLoader<T>;

  constructor(body: PageResponse<T>, load: PageLoader<T>) {
    this.data = body.data;
    this.nextCursor = body.nextCursor ? body.nextCursor : null;
    this.hasMore = this.nextCursor !== null;
    this.#load = load;
  }

  static async load<T>(load: PageLoader<T>, cursor?: string): Promise<Page<T>> {
    return new Page(await load(cursor), load);
  }

  /** The next page, or null when this is the last one. */
  nextPage(): Promise<Page<T> | null> {
    return this.nextCursor === null ? Promise.resolve(null) : Page.load(this.#load, this.nextCursor);
  }

  /** This page and every page after it. */
  async *pages(): AsyncGenerator<Page<T>, void, undefined> {
    let page: Page<T> | null = this;
    while (page) {
      yield page;
      page = await page.nextPage();
    }
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T, void, undefined> {
    for await (const page of this.pages()) yield* page.data;
  }

  /**
   * The items of this page and the pages after it, in one array: every one, or at most `limit`, in which case no
   * page is fetched past the one that reaches it. Without a limit a long list is read whole; prefer `for await`.
   */
  async toArray(options: ToArrayOptions = {}): Promise<T[]> {
    const limit = options.limit ?? Infinity;
    if (!(limit >= 0) || (limit !== Infinity && !Number.isInteger(limit))) {
      throw new RangeError(`toArray: limit must be a whole number ≥ 0, got ${String(options.limit)}`);
    }
    const items: T[] = [];
    if (limit === 0) return items;
    for await (const page of this.pages()) {
      items.push(...page.data.slice(0, limit - items.length));
      if (items.length >= limit) break;
    }
    return items;
  }
}

export interface ToArrayOptions {
  /** The most items to return. */
  limit?: number;
}

/**
 * What `list()` returns: a Promise of the first `Page`, and also an async iterable over every item across pages,
 * so both `const page = await x.list()` and `for await (const item of x.list())` work. The first page is requested
 * at once, like any promise.
 */
export class PagePromise<T> extends Promise<Page<T>> implements AsyncIterable<T> {
  // `then`/`catch`/`finally` return plain Promises, never a PagePromise built from a bare executor.
  static {
    Object.defineProperty(this, Symbol.species, { get: () => Promise, configurable: true });
  }

  static from<T>(load: PageLoader<T>, cursor?: string): PagePromise<T> {
    return new PagePromise<T>((resolve, reject) => {
      Page.load(load, cursor).then(resolve, reject);
    });
  }

  /** Every page, starting with the first. */
  async *pages(): AsyncGenerator<Page<T>, void, undefined> {
    yield* (await this).pages();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T, void, undefined> {
    yield* await this;
  }

  /** `Page.toArray` of the first page: `await maskline.calls.list({ sessionId }).toArray({ limit: 100 })`. */
  toArray(options?: ToArrayOptions): Promise<T[]> {
    return this.then((page) => page.toArray(options));
  }
}
