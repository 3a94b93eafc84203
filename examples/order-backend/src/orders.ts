/**
 * The shop's own side: orders, kept in memory for the example (a real backend keeps them in its database, with the
 * session id and the event ids it has handled).
 */
export type OrderStatus = "placed" | "delivered";

export interface OrderCall {
  /** The Maskline call id. */
  id: string;
  decision: string;
  durationSeconds: number | null;
}

export interface Order {
  id: string;
  status: OrderStatus;
  /** The masked session between courier and customer; null when none could be opened. */
  sessionId: string | null;
  /** What each side dials to reach the other (and sees when called): masking numbers, never the other's own. */
  courierDials: string | null;
  customerDials: string | null;
  /** From events: the session's status as Maskline last reported it, and the calls made through it. */
  sessionStatus: string | null;
  calls: OrderCall[];
}

export class Orders {
  readonly #orders = new Map<string, Order>();
  #next = 1;

  create(): Order {
    const order: Order = {
      id: `order-${this.#next++}`,
      status: "placed",
      sessionId: null,
      courierDials: null,
      customerDials: null,
      sessionStatus: null,
      calls: [],
    };
    this.#orders.set(order.id, order);
    return order;
  }

  get(id: string): Order | undefined {
    return this.#orders.get(id);
  }

  bySession(sessionId: string): Order | undefined {
    return [...this.#orders.values()].find((o) => o.sessionId === sessionId);
  }
}
