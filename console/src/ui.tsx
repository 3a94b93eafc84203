/** The console's building blocks: one look, one behaviour for loading, empty and error states, keyboard and labels. */
import type { ComponentChildren, JSX } from "preact";
import { useCallback, useEffect, useId, useRef, useState } from "preact/hooks";
import type { Page as ListPage } from "@maskline/sdk";
import { describeError, sessionEnded } from "./api";
import { hasNavigated } from "./router";

export interface Async<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

/** Runs `load` now and whenever `deps` change; a 401 ends the session (back to sign-in) instead of showing an error. */
export function useAsync<T>(load: () => Promise<T>, deps: unknown[]): Async<T> {
  const [state, setState] = useState<{ data?: T; error?: unknown; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ data: s.data, loading: true }));
    load().then(
      (data) => live && setState({ data, loading: false }),
      (error: unknown) => {
        if (!live || sessionEnded(error)) return;
        setState({ error, loading: false });
      },
    );
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data: state.data, error: state.error, loading: state.loading, reload };
}

export interface Paged<T> extends Async<T[]> {
  hasMore: boolean;
  loadMore: () => void;
  loadingMore: boolean;
}

/** A cursor-paginated list: the first page, then more on request ("Load more", never an endless scroll). */
export function usePaged<T>(first: () => Promise<ListPage<T>>, deps: unknown[]): Paged<T> {
  const [extra, setExtra] = useState<{ items: T[]; page?: ListPage<T>; error?: unknown; loading: boolean }>({ items: [], loading: false });
  const head = useAsync(async () => {
    const page = await first();
    setExtra({ items: [], page, loading: false });
    return page;
  }, deps);
  const last = extra.page ?? head.data;
  const loadMore = () => {
    if (!last?.hasMore) return;
    setExtra((e) => ({ ...e, loading: true }));
    last.nextPage().then(
      (page) => page && setExtra((e) => ({ items: [...e.items, ...page.data], page, loading: false })),
      (error: unknown) => !sessionEnded(error) && setExtra((e) => ({ ...e, error, loading: false })),
    );
  };
  const data = head.data ? [...head.data.data, ...extra.items] : undefined;
  return {
    data,
    error: head.error ?? extra.error,
    loading: head.loading,
    reload: head.reload,
    hasMore: Boolean(last?.hasMore),
    loadMore,
    loadingMore: extra.loading,
  };
}

export function PageHeader(props: { title: string; description?: ComponentChildren; actions?: ComponentChildren }) {
  const ref = useRef<HTMLHeadingElement>(null);
  // A new page announces itself: focus its heading (screen readers read it; Tab continues from the page's top).
  useEffect(() => {
    if (hasNavigated()) ref.current?.focus();
  }, [props.title]);
  return (
    <header class="page-header">
      <div>
        <h1 tabIndex={-1} ref={ref}>
          {props.title}
        </h1>
        {props.description && <p class="lede">{props.description}</p>}
      </div>
      {props.actions && <div class="page-actions">{props.actions}</div>}
    </header>
  );
}

export function Card(props: { title?: string; children: ComponentChildren; class?: string; actions?: ComponentChildren }) {
  const id = useId();
  return (
    <section class={`card ${props.class ?? ""}`} aria-labelledby={props.title ? id : undefined}>
      {(props.title || props.actions) && (
        <div class="card-head">
          {props.title && <h2 id={id}>{props.title}</h2>}
          {props.actions}
        </div>
      )}
      {props.children}
    </section>
  );
}

type ButtonProps = JSX.HTMLAttributes<HTMLButtonElement> & { variant?: "primary" | "secondary" | "danger" | "link"; type?: "button" | "submit"; disabled?: boolean };

export function Button({ variant = "secondary", type = "button", class: cls, ...rest }: ButtonProps) {
  return <button type={type} class={`btn btn-${variant} ${cls ?? ""}`} {...rest} />;
}

/** A destructive action asks once more, in place (no modal to trap focus in): the second button does it. */
export function ConfirmButton(props: { label: string; confirm: string; onConfirm: () => Promise<void> | void; busyLabel?: string }) {
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const confirmRef = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (asking) confirmRef.current?.focus();
  }, [asking]);
  if (!asking) return <Button variant="secondary" onClick={() => setAsking(true)}>{props.label}</Button>;
  return (
    <span class="confirm" role="group" aria-label={props.confirm}>
      <span class="confirm-text">{props.confirm}</span>
      <button
        type="button"
        class="btn btn-danger"
        ref={confirmRef}
        disabled={busy}
        onClick={async () => {
          setBusy(true);
          try {
            await props.onConfirm();
          } finally {
            setBusy(false);
            setAsking(false);
          }
        }}
      >
        {busy ? (props.busyLabel ?? "Working…") : "Yes, " + props.label.toLowerCase()}
      </button>
      <Button variant="link" onClick={() => setAsking(false)}>
        Cancel
      </Button>
    </span>
  );
}

export function Field(props: { label: string; hint?: ComponentChildren; children: (id: string, describedBy: string | undefined) => ComponentChildren }) {
  const id = useId();
  const hintId = props.hint ? `${id}-hint` : undefined;
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      {props.children(id, hintId)}
      {props.hint && (
        <p class="hint" id={hintId}>
          {props.hint}
        </p>
      )}
    </div>
  );
}

export function Badge(props: { tone: "good" | "bad" | "neutral" | "warn"; children: ComponentChildren; title?: string }) {
  return (
    <span class={`badge badge-${props.tone}`} title={props.title}>
      {props.children}
    </span>
  );
}

/** An empty list says what it is and what to do next. */
export function Empty(props: { title: string; children?: ComponentChildren }) {
  return (
    <div class="empty" role="status">
      <p class="empty-title">{props.title}</p>
      {props.children && <p>{props.children}</p>}
    </div>
  );
}

/** A failure says what went wrong and offers the way out. */
export function ErrorNotice(props: { error: unknown; onRetry?: () => void; what?: string }) {
  return (
    <div class="notice notice-error" role="alert">
      <p>
        <strong>{props.what ?? "This could not be loaded."}</strong> {describeError(props.error)}
      </p>
      {props.onRetry && (
        <Button variant="secondary" onClick={props.onRetry}>
          Try again
        </Button>
      )}
    </div>
  );
}

export function SuccessNotice(props: { children: ComponentChildren }) {
  return (
    <div class="notice notice-success" role="status">
      {props.children}
    </div>
  );
}

export function Loading(props: { what?: string }) {
  return (
    <p class="loading" role="status" aria-live="polite">
      Loading {props.what ?? ""}…
    </p>
  );
}

/** Loading, error and empty states around a list, the same on every page. */
export function ListState<T>(props: { list: Async<T[]>; what: string; empty: ComponentChildren; children: (items: T[]) => ComponentChildren }) {
  const { list } = props;
  if (list.error) return <ErrorNotice error={list.error} onRetry={list.reload} what={`The ${props.what} could not be loaded.`} />;
  if (!list.data) return <Loading what={props.what} />;
  if (list.data.length === 0) return <>{props.empty}</>;
  return <>{props.children(list.data)}</>;
}

export function LoadMore(props: { list: Paged<unknown> }) {
  if (!props.list.hasMore) return null;
  return (
    <div class="load-more">
      <Button onClick={props.list.loadMore} disabled={props.list.loadingMore}>
        {props.list.loadingMore ? "Loading…" : "Load more"}
      </Button>
    </div>
  );
}

/** Copies exact text; when the clipboard is not available the text is selected for the user to copy. */
export function CopyButton(props: { text: string; label: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <button
      type="button"
      class="btn btn-secondary btn-small"
      aria-label={props.label}
      onClick={async (e) => {
        const button = e.currentTarget;
        try {
          await navigator.clipboard.writeText(props.text);
          setCopied(true);
          window.setTimeout(() => setCopied(false), 2000);
        } catch {
          const code = button.parentElement?.querySelector("code");
          if (code) window.getSelection()?.selectAllChildren(code);
        }
      }}
    >
      {copied ? "Copied" : "Copy"}
    </button>
  );
}

/** A value to copy exactly (a URL, a secret shown once). */
export function CopyValue(props: { value: string; label: string }) {
  return (
    <div class="copy-value">
      <code>{props.value}</code>
      <CopyButton text={props.value} label={`Copy ${props.label}`} />
    </div>
  );
}

/** A table with a caption for screen readers and horizontal scrolling on a narrow screen. */
export function Table(props: { caption: string; head: string[]; children: ComponentChildren }) {
  return (
    <div class="table-wrap" role="region" aria-label={props.caption} tabIndex={0}>
      <table>
        <caption class="visually-hidden">{props.caption}</caption>
        <thead>
          <tr>
            {props.head.map((h) => (
              <th scope="col" key={h}>
                {h}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>{props.children}</tbody>
      </table>
    </div>
  );
}
