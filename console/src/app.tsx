import { useEffect, useState } from "preact/hooks";
import type { ConsoleSession } from "@maskline/sdk";
import { loadSession, onSessionChange, signOut, type SessionEnd } from "./api";
import { tenantLabel } from "./format";
import { href, navigate, onLinkClick, useLocation } from "./router";
import { Button, ErrorNotice, Loading } from "./ui";
import { SignIn } from "./pages/sign-in";
import { Overview } from "./pages/overview";
import { SessionDetail, Sessions } from "./pages/sessions";
import { Calls } from "./pages/calls";
import { Numbers } from "./pages/numbers";
import { Apps } from "./pages/apps";
import { ApiKeys } from "./pages/keys";
import { WebhookDetail, Webhooks } from "./pages/webhooks";
import { AuditLog } from "./pages/audit";
import { Settings } from "./pages/settings";
import { TenantDetail, Tenants } from "./pages/tenants";

interface NavItem {
  path: string;
  label: string;
}

const TENANT_NAV: NavItem[] = [
  { path: "/", label: "Overview" },
  { path: "/sessions", label: "Sessions" },
  { path: "/calls", label: "Calls" },
  { path: "/numbers", label: "Numbers and pools" },
  { path: "/apps", label: "Apps" },
  { path: "/keys", label: "API keys" },
  { path: "/webhooks", label: "Webhooks" },
  { path: "/audit", label: "Audit log" },
  { path: "/settings", label: "Settings" },
];
const OPERATOR_NAV: NavItem[] = [
  { path: "/", label: "Tenants" },
  { path: "/audit", label: "Audit log" },
];

function NotFound() {
  return (
    <div class="card">
      <h1 tabIndex={-1}>Page not found</h1>
      <p>
        There is no console page at this address. <a href={href("/")}>Go to the start page</a>.
      </p>
    </div>
  );
}

function tenantPage(path: string, session: ConsoleSession) {
  const [, section, id] = path.split("/");
  switch (`/${section ?? ""}`) {
    case "/":
      return <Overview />;
    case "/sessions":
      return id ? <SessionDetail id={decodeURIComponent(id)} /> : <Sessions />;
    case "/calls":
      return <Calls />;
    case "/numbers":
      return <Numbers />;
    case "/apps":
      return <Apps />;
    case "/keys":
      return <ApiKeys session={session} />;
    case "/webhooks":
      return id ? <WebhookDetail id={decodeURIComponent(id)} /> : <Webhooks />;
    case "/audit":
      return <AuditLog />;
    case "/settings":
      return <Settings session={session} />;
    default:
      return <NotFound />;
  }
}

function operatorPage(path: string) {
  const [, section, id] = path.split("/");
  switch (`/${section ?? ""}`) {
    case "/":
    case "/tenants":
      return id ? <TenantDetail id={decodeURIComponent(id)} /> : <Tenants />;
    case "/audit":
      return <AuditLog operator />;
    default:
      return <NotFound />;
  }
}

const isCurrent = (item: NavItem, path: string) => (item.path === "/" ? path === "/" || path.startsWith("/tenants") : path === item.path || path.startsWith(`${item.path}/`));

function Shell(props: { session: ConsoleSession }) {
  const { path } = useLocation();
  const operator = props.session.kind === "operator";
  const nav = operator ? OPERATOR_NAV : TENANT_NAV;
  const [menuOpen, setMenuOpen] = useState(false);
  useEffect(() => setMenuOpen(false), [path]);
  return (
    <div class="shell">
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="topbar">
        <a class="brand" href={href("/")}>
          <span class="brand-mark" aria-hidden="true">
            M
          </span>{" "}
          Maskline
        </a>
        <span class="who">
          {operator ? "Operator" : tenantLabel(props.session.tenantName)}
          <span class="muted small"> · {operator ? "all tenants" : `key ${props.session.apiKeyStart}…`}</span>
        </span>
        <button type="button" class="btn btn-secondary menu-toggle" aria-expanded={menuOpen} aria-controls="main-nav" onClick={() => setMenuOpen(!menuOpen)}>
          Menu
        </button>
        <Button
          variant="secondary"
          class="sign-out"
          onClick={async () => {
            await signOut().catch(() => undefined);
            navigate(href("/"), { replace: true });
          }}
        >
          Sign out
        </Button>
      </header>
      <nav id="main-nav" class={`sidebar ${menuOpen ? "open" : ""}`} aria-label="Main">
        <ul>
          {nav.map((item) => (
            <li key={item.path}>
              <a href={href(item.path)} aria-current={isCurrent(item, path) ? "page" : undefined}>
                {item.label}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" class="content">
        {operator ? operatorPage(path) : tenantPage(path, props.session)}
      </main>
    </div>
  );
}

export function App() {
  const [state, setState] = useState<{ session: ConsoleSession | null; loading: boolean; error?: unknown; end?: SessionEnd }>({ session: null, loading: true });
  const load = () => {
    setState((s) => ({ ...s, loading: true, error: undefined }));
    loadSession().then(
      (session) => setState({ session, loading: false }),
      (error: unknown) => setState({ session: null, loading: false, error }),
    );
  };
  useEffect(() => {
    load();
    return onSessionChange((session, end) => setState((s) => ({ session, loading: false, ...(s.session !== null && session === null && end ? { end } : {}) })));
  }, []);
  useEffect(() => {
    document.addEventListener("click", onLinkClick);
    return () => document.removeEventListener("click", onLinkClick);
  }, []);
  if (state.loading) return <Loading what="the console" />;
  if (state.error)
    return (
      <main id="main" class="sign-in">
        <ErrorNotice error={state.error} onRetry={load} what="The console could not reach the service." />
      </main>
    );
  if (!state.session) return <SignIn end={state.end} />;
  return <Shell session={state.session} />;
}
